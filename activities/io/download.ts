/**
 * Downloads a file over HTTP(S) into `<target>.part`, resuming a partial file with an HTTP Range request (within
 * one call after a dropped connection, and across calls), following redirects, then checks a SHA-256 when one is
 * known and renames the file into place. Failures keep the partial file and say how to resume.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

export interface DownloadOptions {
  /** Called as bytes arrive; `total` is undefined when the server does not say. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Expected SHA-256 (hex) of the whole file. */
  sha256?: string;
  /** Tries per call (a dropped connection resumes with a Range request). */
  attempts?: number;
  /** Socket inactivity limit in ms. */
  timeoutMs?: number;
}

/** A download that failed for a reason outside the user's data (network, server); the message says what to do. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT']);
const MAX_REDIRECTS = 5;

export const partialFile = (target: string): string => `${target}.part`;

const sizeOf = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/** GET `url` with a Range from `offset`, following redirects; resolves with the final response. */
function request(url: string, offset: number, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const headers: Record<string, string> = { 'user-agent': 'nnunet-ts' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const req = get(url, { headers, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new DownloadError(`${url}: more than ${MAX_REDIRECTS} redirects`));
        return resolve(request(new URL(res.headers.location, url).toString(), offset, timeoutMs, redirects + 1));
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no data for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** Where the body starts in the file: `offset` when the server honoured the Range, 0 when it sends everything. */
function startOf(res: http.IncomingMessage, url: string, offset: number): number {
  const status = res.statusCode ?? 0;
  if (status === 200) return 0;
  if (status === 206) {
    const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== offset) throw new DownloadError(`${url}: the server resumed at byte ${m?.[1] ?? '?'} instead of ${offset}; delete the .part file and try again`);
    return offset;
  }
  throw new DownloadError(`${url}: the server answered HTTP ${status} ${res.statusMessage ?? ''}; check the URL`.trim());
}

/** The whole file's size from a 200 or 206 answer. */
function totalOf(res: http.IncomingMessage, start: number): number | undefined {
  const range = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
  if (range) return Number(range[1]);
  const length = res.headers['content-length'];
  return length === undefined ? undefined : start + Number(length);
}

/** One request: appends to the .part file; resolves true when the file is complete. */
async function attempt(url: string, part: string, opts: DownloadOptions): Promise<boolean> {
  const offset = sizeOf(part);
  const res = await request(url, offset, opts.timeoutMs ?? 100_000);
  if (res.statusCode === 416 && offset > 0) { // the .part already holds everything
    res.resume();
    return true;
  }
  const start = startOf(res, url, offset);
  const total = totalOf(res, start);
  const out = fs.openSync(part, start === 0 ? 'w' : 'a');
  let received = start;
  try {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        fs.writeSync(out, chunk);
        received += chunk.length;
        opts.onProgress?.(received, total);
      });
      res.on('end', resolve);
      res.on('error', reject);
      res.on('aborted', () => reject(Object.assign(new Error('connection closed early'), { code: 'ECONNRESET' })));
    });
  } finally {
    fs.fsyncSync(out);
    fs.closeSync(out);
  }
  return total === undefined || received >= total;
}

function describe(err: unknown, url: string, part: string): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = (err as { code?: string }).code ?? '';
  const have = sizeOf(part);
  const resume = have > 0 ? ` ${have} bytes are kept in ${part}; run the same command again to resume.` : '';
  if (OFFLINE_CODES.has(code)) {
    return new DownloadError(`${url}: cannot download (${code}: ${(err as Error).message}); are you offline or behind a proxy?${resume}`);
  }
  return new DownloadError(`${url}: download failed (${(err as Error).message}).${resume}`);
}

function sha256Of(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Downloads `url` to `target` (resuming `<target>.part` when present); returns the target. */
export async function downloadFile(url: string, target: string, opts: DownloadOptions = {}): Promise<string> {
  if (!/^https?:\/\//.test(url)) throw new DownloadError(`${url}: not an http(s) URL`);
  const part = partialFile(target);
  const attempts = opts.attempts ?? 3;
  for (let i = 1; ; i++) {
    try {
      if (await attempt(url, part, opts)) break;
      throw Object.assign(new Error(`connection closed after ${sizeOf(part)} bytes`), { code: 'ECONNRESET' });
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (err instanceof DownloadError || i >= attempts || !['ECONNRESET', 'ETIMEDOUT'].includes(code)) throw describe(err, url, part);
    }
  }
  if (opts.sha256) {
    const got = sha256Of(part);
    if (got !== opts.sha256.toLowerCase()) {
      fs.rmSync(part, { force: true });
      throw new DownloadError(`${url}: checksum mismatch (SHA-256 ${got}, expected ${opts.sha256}); the download was corrupt and is deleted, run the command again`);
    }
  }
  fs.renameSync(part, target);
  return target;
}
