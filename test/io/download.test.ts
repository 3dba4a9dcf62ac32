/**
 * Downloading model zips from a local HTTP server on 127.0.0.1: a dropped transfer resumes with a Range request
 * (within one call and across calls), redirects are followed, a checksum is checked, an unreachable server says
 * so; then `nnunet pretrained download-url` (and nnU-Net's alias) installs what it downloaded.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import { downloadFile, partialFile } from '../../activities/io/download';
import { binShim, cleanEnv, runCliAsync } from '../client/cli-helpers';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'download-'));
const MODEL_FILE = '3d_fullres/Task098_Download/nnUNetTrainerV2__nnUNetPlansv2.1/fold_0/model_final_checkpoint.model';

/** A zip of a model folder, large enough to be sent in several chunks. */
function modelZip(): Buffer {
  const weights = new Uint8Array(400_000);
  for (let i = 0; i < weights.length; i++) weights[i] = (i * 2654435761) >>> 24;
  return Buffer.from(zipSync({ [MODEL_FILE]: weights, '3d_fullres/Task098_Download/nnUNetTrainerV2__nnUNetPlansv2.1/plans.pkl': new Uint8Array([1, 2, 3]) }, { level: 0 }));
}

interface Served { url: string; requests: Array<{ path: string; range?: string }>; close: () => Promise<void> }

/** Serves `body` at /model.zip (Range supported), /moved redirects there; the first `drops` transfers stop halfway. */
async function serve(body: Buffer, drops = 0): Promise<Served> {
  const requests: Served['requests'] = [];
  let dropped = 0;
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', range: req.headers.range });
    if (req.url === '/moved') return res.writeHead(302, { location: '/model.zip' }).end();
    if (req.url !== '/model.zip') return res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= body.length) return res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    res.writeHead(m ? 206 : 200, { 'content-length': body.length - start, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    if (dropped < drops) {
      dropped++;
      res.write(body.subarray(start, start + Math.floor((body.length - start) / 2)), () => res.destroy());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

test('a transfer dropped halfway resumes with a Range request in the same call; redirects are followed', async () => {
  const body = modelZip();
  const s = await serve(body, 1);
  try {
    const target = path.join(tmp(), 'model.zip');
    const seen: number[] = [];
    await downloadFile(`${s.url}/moved`, target, { onProgress: (r) => seen.push(r) });
    assert.ok(fs.readFileSync(target).equals(body));
    assert.ok(!fs.existsSync(partialFile(target)));
    const zips = s.requests.filter((r) => r.path === '/model.zip');
    assert.equal(zips.length, 2);
    assert.equal(zips[0].range, undefined);
    assert.match(zips[1].range ?? '', /^bytes=[1-9]\d*-$/, 'the second request asks for the rest only');
    assert.equal(seen.at(-1), body.length);
  } finally {
    await s.close();
  }
});

test('across calls: a failed call keeps the partial file and says so, the next resumes; a checksum is checked', async () => {
  const body = modelZip();
  const sha = createHash('sha256').update(body).digest('hex');
  const s = await serve(body, 1);
  try {
    const target = path.join(tmp(), 'model.zip');
    await assert.rejects(downloadFile(`${s.url}/model.zip`, target, { attempts: 1 }), /bytes are kept in .*model\.zip\.part; run the same command again to resume/);
    const kept = fs.statSync(partialFile(target)).size;
    assert.ok(kept > 0 && kept < body.length);
    await downloadFile(`${s.url}/model.zip`, target, { attempts: 1, sha256: sha });
    assert.ok(fs.readFileSync(target).equals(body));
    assert.equal(s.requests.at(-1)?.range, `bytes=${kept}-`);

    const other = path.join(path.dirname(target), 'bad.zip');
    await assert.rejects(downloadFile(`${s.url}/model.zip`, other, { sha256: '0'.repeat(64) }), /checksum mismatch .* deleted/);
    assert.ok(!fs.existsSync(partialFile(other)) && !fs.existsSync(other));
    await assert.rejects(downloadFile(`${s.url}/nothing.zip`, other), /HTTP 404/);
  } finally {
    await s.close();
  }
});

test('an unreachable server is a clear error', async () => {
  const s = await serve(Buffer.alloc(0));
  await s.close(); // the port is now closed
  await assert.rejects(downloadFile(`${s.url}/model.zip`, path.join(tmp(), 'x.zip')), /cannot download \(ECONNREFUSED.*are you offline/);
});

/** Runs an nnU-Net alias shim asynchronously (the test's server must keep answering meanwhile). */
function runAlias(alias: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binShim(alias), ...args], { env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('nnunet pretrained download-url and nnUNet_download_pretrained_model_by_url download, resume and install', async () => {
  const body = modelZip();
  const s = await serve(body, 1);
  try {
    const results = tmp();
    const env = { RESULTS_FOLDER: results };
    const r = await runCliAsync(['pretrained', 'download-url', `${s.url}/model.zip`, '--sha256', createHash('sha256').update(body).digest('hex')], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installed .*3d_fullres\/Task098_Download\/nnUNetTrainerV2__nnUNetPlansv2\.1/);
    assert.equal(fs.statSync(path.join(results, 'nnUNet', MODEL_FILE)).size, 400_000);
    assert.deepEqual(fs.readdirSync(path.join(results, 'nnUNet', '.downloads')), [], 'the downloaded zip is removed once installed');

    const again = await runAlias('nnUNet_download_pretrained_model_by_url', [`${s.url}/model.zip`], { RESULTS_FOLDER: results });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already installed .*pass --overwrite/);
    const over = await runAlias('nnUNet_download_pretrained_model_by_url', [`${s.url}/model.zip`, '--overwrite'], { RESULTS_FOLDER: results });
    assert.equal(over.code, 0, over.stderr);
    assert.match(over.stderr, /already downloaded/, 'the refused download was kept, so the retry does not fetch it again');
    assert.match(over.stdout, /replaced /);
  } finally {
    await s.close();
  }
});
