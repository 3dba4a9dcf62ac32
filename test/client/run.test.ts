/**
 * `nnunet run` against a real embedded Temporal server: a tiny synthetic task runs every stage to the end (exit
 * code 0); a second run attaches to the running workflow instead of starting another; a sweep over the task
 * completes; the embedded server and workers stop on exit.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { writeDemoDataset } from '../../activities/io/demo';
import { resolveTemporalBinary } from '../../client/temporal/binary';
import { assertBuilt, CLI, cleanEnv, runCliAsync, type CliResult } from './cli-helpers';
import { countWorkflowRuns } from '../e2e/helpers';

const TASK = 902;
const WORKFLOW_ID = `nnunet-task-${TASK}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-run-'));
const env = {
  nnUNet_raw_data_base: path.join(tmp, 'raw'),
  nnUNet_preprocessed: path.join(tmp, 'preprocessed'),
  RESULTS_FOLDER: path.join(tmp, 'results'),
  NNUNET_LOG_LEVEL: 'info',
};
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const serverJson = path.join(env.RESULTS_FOLDER, '.temporal', 'server.json');
// Small and quick: one configuration, one fold, one epoch of one iteration, no find-best.
const RUN_ARGS = ['run', '-t', String(TASK), '-c', '2d', '-f', '0', '--epochs', '1', '--iters', '1', '--no-find-best'];

/** Every stage ran: the command exits 0 and reports no failed stage. */
function assertRunCompleted(r: CliResult): void {
  assert.equal(r.code, 0, `exit code ${r.code}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /failed at |not implemented yet/, r.stderr);
}

const skip = resolveTemporalBinary() ? false : 'no temporal CLI installed (npm run setup)';

test('run: embedded server, a tiny task runs to completion; a second run attaches; a sweep completes', { skip, timeout: 600_000 }, async () => {
  assertBuilt();
  await writeDemoDataset(env.nnUNet_raw_data_base, { taskId: TASK, cases: 5, testCases: 0 });

  // 1. A shared embedded server (`nnunet server`), so that a workflow can be left running between commands.
  const server = spawn(process.execPath, [CLI, 'server', '--json', '--headless'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let serverErr = '';
  server.stderr.on('data', (d) => (serverErr += d));
  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
  try {
    const first = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: server.stdout }).once('line', resolve);
      void exited.then((c) => reject(new Error(`nnunet server exited (${c}): ${serverErr}`)));
    });
    const { address } = JSON.parse(first) as { address: string };

    // 2. --detach starts the workflow; with no worker polling it stays running. The same command again attaches.
    const a = await runCliAsync([...RUN_ARGS, '--detach', '--json'], { env });
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(JSON.parse(a.stdout), { workflowId: WORKFLOW_ID, attached: false, status: 'RUNNING' });
    const b = await runCliAsync([...RUN_ARGS, '--detach', '--json'], { env });
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(JSON.parse(b.stdout), { workflowId: WORKFLOW_ID, attached: true, status: 'RUNNING' });
    // With TEMPORAL_ADDRESS the CLI starts nothing and only attaches.
    const remote = await runCliAsync([...RUN_ARGS, '--detach', '--json'], { env: { ...env, TEMPORAL_ADDRESS: address } });
    assert.equal(remote.code, 0, remote.stderr);
    assert.deepEqual(JSON.parse(remote.stdout), { workflowId: WORKFLOW_ID, attached: true, status: 'RUNNING' });
    assert.doesNotMatch(remote.stderr, /starting the embedded Temporal server/);

    // 3. A plain run brings in-process workers, attaches to that same workflow and follows it to its end.
    const c = await runCliAsync(RUN_ARGS, { env, timeoutMs: 300_000 });
    assert.match(c.stdout, /using the running embedded server at /, 'no second server on the same SQLite file');
    assert.match(c.stdout, new RegExp(`attached to ${WORKFLOW_ID} \\(running\\)`));
    assertRunCompleted(c);
    assert.match(c.stdout, /verify: done/, 'the non-terminal view prints one line per change');
    assert.equal(await countWorkflowRuns(address, WORKFLOW_ID), 1, 'three commands, one workflow run');

    // 4. A sweep over the same task runs it as a child workflow and writes the results table.
    const sw = await runCliAsync(['sweep', '-t', String(TASK), '-c', '2d', '-f', '0', '--epochs', '1', '--iters', '1', '--name', 'smoke', '--json'], { env, timeoutMs: 300_000 });
    assert.equal(sw.code, 0, `sweep exit code ${sw.code}: ${sw.stderr}`);
    const sweep = JSON.parse(sw.stdout) as { name: string; rows: Array<{ task: string; configuration: string; status: string; error?: string }>; report: { csvFile: string; markdownFile: string } };
    assert.equal(sweep.name, 'smoke');
    assert.equal(sweep.rows.length, 1);
    assert.equal(sweep.rows[0].configuration, '2d');
    assert.equal(sweep.rows[0].status, 'completed', sweep.rows[0].error);
    assert.match(fs.readFileSync(sweep.report.markdownFile, 'utf8'), /\| 2d \|/);
    assert.ok(fs.existsSync(sweep.report.csvFile));
  } finally {
    server.kill('SIGINT');
  }
  assert.equal(await exited, 0, serverErr);
  assert.ok(!fs.existsSync(serverJson), 'nnunet server removes its server.json when it stops');

  // 5. Without a running server, run starts its own on the same SQLite file (history survived), and stops it.
  const d = await runCliAsync([...RUN_ARGS, '--json'], { env, timeoutMs: 300_000 });
  assertRunCompleted(d);
  const out = JSON.parse(d.stdout) as { workflowId: string; status: string; state?: { nodes: Array<{ id: string; status: string }> } };
  assert.equal(out.workflowId, WORKFLOW_ID);
  assert.equal(out.status, 'completed');
  assert.ok(out.state?.nodes.some((n) => n.id === 'verify' && n.status === 'done'), 'verify ran and is shown done');
  assert.ok(!fs.existsSync(serverJson), 'the embedded server was stopped and unregistered');
  const log = fs.readFileSync(path.join(env.RESULTS_FOLDER, '.temporal', 'worker.log'), 'utf8');
  const activityLines = log.split('\n').filter((l) => l.includes('"sdkComponent":"activity"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(activityLines.some((l) => l.activityType === 'verifyDataset'), 'activity log lines are in the worker log');
  for (const line of activityLines) {
    for (const k of ['task', 'configuration', 'fold', 'attempt']) assert.ok(k in line, `activity log line lacks ${k}: ${JSON.stringify(line)}`);
  }
  const train = activityLines.find((l) => l.activityType === 'train');
  assert.ok(train, 'the train activity logged');
  assert.deepEqual([train.task, train.configuration, train.fold], [`Task${TASK}_Demo`, '2d', 0]);
});
