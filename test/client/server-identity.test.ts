/**
 * Start-up and worker messages without a server binary: an explicit port held by another program is refused,
 * the socket owner check, dead local worker identities, and the collapsing of "server away" warnings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/worker';
import { processListensOn, startDevServer } from '../../client/temporal/devserver';
import { deadLocalWorkerPid } from '../../client/temporal/orphans';
import { SERVER_AWAY_REPORT_MS, ServerAwayFilter } from '../../client/temporal/runtime-logging';
import { connectionError, tcpProblem } from '../../client/temporal/connection';
import { ensurePrivateDir } from '../../client/temporal/embedded';

async function listening(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as net.AddressInfo).port };
}

test('an explicit port already in use is refused before any server starts (nothing written)', async () => {
  const { server, port } = await listening();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-port-'));
  try {
    await assert.rejects(startDevServer({ dbFile: path.join(dir, 'db', 'temporal.db'), port, uiPort: false }), new RegExp(`port ${port} on 127.0.0.1 is already in use by another program`));
    assert.equal(fs.existsSync(path.join(dir, 'db')), false);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('processListensOn tells the process holding a listening socket from another one', { skip: !fs.existsSync('/proc/net/tcp') && 'no /proc' }, async () => {
  const { server, port } = await listening();
  const other = spawn('sleep', ['30']);
  try {
    assert.equal(processListensOn(process.pid, port), true);
    assert.equal(processListensOn(other.pid!, port), false);
  } finally {
    other.kill();
    server.close();
  }
});

test('deadLocalWorkerPid: only our identities, on this host, whose process is gone', () => {
  const host = os.hostname();
  const gone = 2 ** 22 + 12345; // above pid_max's default range: no such process
  assert.equal(deadLocalWorkerPid(`nnunet-run-${gone}@${host}`), gone);
  assert.equal(deadLocalWorkerPid(`nnunet-gpu-${gone}@${host}`), gone);
  assert.equal(deadLocalWorkerPid(`nnunet-run-${process.pid}@${host}`), undefined, 'alive');
  assert.equal(deadLocalWorkerPid(`nnunet-run-${gone}@not-${host}`), undefined, 'another host');
  assert.equal(deadLocalWorkerPid(`my-worker-${gone}@${host}`), undefined, 'a custom identity');
  assert.equal(deadLocalWorkerPid(undefined), undefined);
  assert.equal(deadLocalWorkerPid(`nnunet-run-${gone}.3@${host}`), gone, 'with a session number');
  assert.equal(deadLocalWorkerPid(`nnunet-run-${process.pid}.1@${host}`, host, 2), process.pid, 'this process\'s earlier, shut-down workers');
  assert.equal(deadLocalWorkerPid(`nnunet-run-${process.pid}.2@${host}`, host, 2), undefined, 'this session\'s own workers');
  assert.equal(deadLocalWorkerPid(`nnunet-run-${process.pid}.1@${host}`), undefined, 'no session given: never our own');
});

test('ServerAwayFilter: one line when the server goes away, then one a minute; other lines pass', () => {
  const lines: Array<[LogLevel, string]> = [];
  const sink = { log: (level: LogLevel, message: string, _meta?: LogMetadata) => lines.push([level, message]) } as unknown as Logger;
  let now = 0;
  const filter = new ServerAwayFilter(sink, '127.0.0.1:7233', () => now);
  filter.info('Worker state changed');
  for (; now < 3 * SERVER_AWAY_REPORT_MS; now += 500) filter.warn('gRPC call poll_activity_task_queue retried 6 times', { error: 'status: Unavailable, message: "tcp connect error"' });
  const away = lines.filter(([, m]) => m.includes('127.0.0.1:7233'));
  assert.equal(lines[0][1], 'Worker state changed');
  assert.equal(away.length, 3, `one line, then one a minute: ${away.map((l) => l[1]).join(' | ')}`);
  assert.match(away[0][1], /does not answer .*check that it runs/);
  assert.match(away[2][1], /has not answered for 2 min \(\d+ retries\); still retrying/);
  filter.warn('something else went wrong');
  assert.equal(lines.at(-1)![1], 'something else went wrong');
});

test('a closed port is reported as such, with what to check', async () => {
  const { server, port } = await listening();
  await new Promise<void>((r) => server.close(() => r()));
  const problem = await tcpProblem(`127.0.0.1:${port}`);
  assert.equal(problem, 'ECONNREFUSED');
  const err = connectionError({ address: `127.0.0.1:${port}` }, new Error(problem), true);
  assert.match(err.message, new RegExp(`cannot connect to Temporal at 127.0.0.1:${port}: nothing listens there \\(connection refused\\); check TEMPORAL_ADDRESS.*nnunet server`));
});

test('the history folder is private: created 0700, and an open one from an older version tightened', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-private-'));
  try {
    const fresh = path.join(root, 'a', '.temporal');
    ensurePrivateDir(fresh);
    assert.equal(fs.statSync(fresh).mode & 0o777, 0o700);
    const old = path.join(root, 'b');
    fs.mkdirSync(old, { mode: 0o755 });
    fs.chmodSync(old, 0o755);
    ensurePrivateDir(old);
    assert.equal(fs.statSync(old).mode & 0o777, 0o700);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
