/**
 * Two `nnunet run` for the same task at the same moment, with no server running: one embedded server on the
 * SQLite file (the server.lock), one workflow run, both clients follow it to the same end. And when the client
 * that started the server exits first, the other one starts a server itself and reattaches (durable workflow).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { startDevServer } from '../../client/temporal/devserver';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { countWorkflowRuns, makeDataEnv, processesMentioning, startCli, type DataEnv } from './helpers';

const TASK = 901;
const WORKFLOW_ID = `nnunet-task-${TASK}`;
// The smallest real pipeline: 5 cases (five folds need five), 2d only, fold 0, 2 epochs x 2 iterations.
const runArgs = (epochs: number, iters: number): string[] =>
  ['run', '-t', String(TASK), '-c', '2d', '-f', '0', '--epochs', String(epochs), '--iters', String(iters), '--no-find-best', '--json'];
const RUN = runArgs(2, 2);
const skip = temporalUnavailable() ?? false;
const dirs: DataEnv[] = [];
after(() => dirs.forEach((d) => d.remove()));

async function demoEnv(name: string): Promise<DataEnv> {
  const d = makeDataEnv(name);
  dirs.push(d);
  await writeDemoDataset(d.env.nnUNet_raw_data_base, { taskId: TASK, cases: 5, testCases: 0 });
  return d;
}

/** Starts a server on the results folder's SQLite file just to count the task's workflow runs. */
async function runsInHistory(d: DataEnv): Promise<number> {
  const server = await startDevServer({ dbFile: path.join(d.temporalDir, 'temporal.db'), uiPort: false, logFile: path.join(d.root, 'count.log'), readyTimeoutMs: 180_000 });
  try {
    return await countWorkflowRuns(server.address, WORKFLOW_ID);
  } finally {
    await server.stop();
  }
}

function assertNothingLeftRunning(d: DataEnv): void {
  assert.ok(!fs.existsSync(path.join(d.temporalDir, 'server.lock')), 'the server lock is released');
  assert.ok(!fs.existsSync(path.join(d.temporalDir, 'server.json')), 'server.json is removed');
  assert.deepEqual(processesMentioning(path.join(d.temporalDir, 'temporal.db')), [], 'no temporal server left on the SQLite file');
}

interface RunJson { workflowId: string; status: string; state?: { status: string; nodes: Array<{ id: string; status: string }> } }

test('two nnunet run at the same moment: one server, one workflow, the same outcome', { skip, timeout: 600_000 }, async () => {
  assertBuilt();
  const d = await demoEnv('concurrent');
  const t0 = Date.now();
  const a = startCli(RUN, d.env);
  const b = startCli(RUN, d.env);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  console.log(`two concurrent runs: ${ra.ms} ms and ${rb.ms} ms (wall ${Date.now() - t0} ms), exit ${ra.code}/${rb.code}`);

  // Exactly one started the server; the other used it (same address).
  const started = [ra, rb].map((r) => /Temporal server ready at ([\d.:]+)/.exec(r.stderr)?.[1]);
  const used = [ra, rb].map((r) => /using the running embedded server at (\S+)/.exec(r.stderr)?.[1]);
  const owner = started.findIndex((s) => s !== undefined);
  assert.ok(owner >= 0, `one client started the server\n${ra.stderr}\n${rb.stderr}`);
  const other = 1 - owner;
  assert.equal(used[other], started[owner], 'the other client used that same server');
  assert.ok(!/Temporal server ready at/.test([ra, rb][other].stderr.split(/reattaching/)[0]), 'no second server while the first one ran');

  // One workflow: one started it, the other attached; both show progress and end with the same status.
  assert.equal([ra, rb].filter((r) => new RegExp(`started ${WORKFLOW_ID}`).test(r.stderr)).length, 1, 'one client started the workflow');
  assert.equal([ra, rb].filter((r) => new RegExp(`attached to ${WORKFLOW_ID}`).test(r.stderr)).length, 1, 'the other attached');
  for (const r of [ra, rb]) assert.match(r.stderr, /train\/2d\/0: /, 'each client shows the progress of the training node');
  const [ja, jb] = [ra, rb].map((r) => JSON.parse(r.stdout) as RunJson);
  assert.equal(ja.workflowId, WORKFLOW_ID);
  assert.equal(ra.code, rb.code, `same exit code\n${ra.stderr}\n${rb.stderr}`);
  assert.equal(ja.status, jb.status, 'same final status');
  assert.equal(ja.status, 'completed', ra.stderr);
  assert.deepEqual(ja.state?.nodes.map((n) => [n.id, n.status]), jb.state?.nodes.map((n) => [n.id, n.status]), 'same final DAG state');

  assertNothingLeftRunning(d);
  assert.equal(await runsInHistory(d), 1, 'exactly one workflow run in the history');
});

test('the client that started the server exits first: it hands the server over, the other one goes on undisturbed and stops it at its end', { skip, timeout: 600_000 }, async () => {
  assertBuilt();
  const d = await demoEnv('handover');
  const configFile = path.join(d.root, 'config.yaml');
  fs.writeFileSync(configFile, 'training:\n  heartbeatTimeoutSeconds: 10\n'); // a step lost with the first client's workers is retried soon
  const run = ['--config', configFile, ...runArgs(6, 4)];
  const a = startCli(run, d.env);
  await a.waitFor(/Temporal server ready at/);
  const b = startCli(run, d.env, 240_000);
  await b.waitFor(new RegExp(`attached to ${WORKFLOW_ID}`));
  await b.waitFor(/train\/2d\/0: running/);
  const serverPid = (JSON.parse(fs.readFileSync(path.join(d.temporalDir, 'server.lock'), 'utf8')) as { serverPid: number }).serverPid;
  a.child.kill('SIGINT'); // Ctrl-C in the first terminal: its workers drain, and the server stays for the other client
  const ra = await a.done;
  assert.equal(ra.code, 130, ra.stderr);
  assert.match(ra.stderr, /is durable: run the same command again/);
  assert.match(ra.stderr, new RegExp(`nnunet pid ${b.child.pid} still uses the embedded server: it keeps running`), ra.stderr);

  const rb = await b.done;
  console.log(`owner interrupted after ${ra.ms} ms; the other client finished after ${rb.ms} ms`);
  assert.match(rb.stderr, new RegExp(`nnunet pid ${a.child.pid} finished and handed the embedded server over to this process`), rb.stderr);
  assert.doesNotMatch(rb.stderr, /reattaching|Temporal server ready at/, 'the same server all along');
  assert.equal(rb.code, 0, rb.stderr);
  assert.equal((JSON.parse(rb.stdout) as RunJson).status, 'completed');

  assert.ok(!processesMentioning(path.join(d.temporalDir, 'temporal.db')).includes(serverPid), 'the heir stopped the server at its end');
  assertNothingLeftRunning(d);
  assert.equal(await runsInHistory(d), 1, 'still one workflow run');
});

test('kill -9 of the client that owns the server: the next run adopts the orphaned server, finishes, and stops it', { skip, timeout: 600_000 }, async () => {
  assertBuilt();
  const d = await demoEnv('orphan');
  const configFile = path.join(d.root, 'config.yaml');
  fs.writeFileSync(configFile, 'training:\n  heartbeatTimeoutSeconds: 10\n'); // the killed client's training is retried after 10 s
  const run = ['--config', configFile, ...runArgs(6, 4)];
  const a = startCli(run, d.env);
  await a.waitFor(/train\/2d\/0: running/);
  a.child.kill('SIGKILL'); // the server runs in its own process group: it survives its owner
  await a.done;
  const lock = JSON.parse(fs.readFileSync(path.join(d.temporalDir, 'server.lock'), 'utf8')) as { pid: number; serverPid: number };
  assert.equal(lock.pid, a.child.pid, 'the stale lock names the killed client');
  assert.deepEqual(processesMentioning(path.join(d.temporalDir, 'temporal.db')), [lock.serverPid], 'its server is still running');

  const b = await startCli(run, d.env, 240_000).done;
  console.log(`after kill -9 of the owner: the next run finished in ${b.ms} ms`);
  assert.match(b.stderr, new RegExp(`adopting the embedded server left running by nnunet pid ${a.child.pid} \\(server pid ${lock.serverPid}\\)`));
  assert.doesNotMatch(b.stderr, /Temporal server ready at/, 'no second server on the SQLite file');
  assert.match(b.stderr, new RegExp(`attached to ${WORKFLOW_ID} \\(running\\)`));
  assert.equal(b.code, 0, b.stderr);
  assert.equal((JSON.parse(b.stdout) as RunJson).status, 'completed');
  assertNothingLeftRunning(d);
  assert.equal(await runsInHistory(d), 1, 'one workflow run');
});
