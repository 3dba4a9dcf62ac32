/** Logging: JSON lines with the activity context; Temporal's SDK lines routed into pino; TLS files read up front. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../activities/common/logger';
import { runWithLogContext } from '../../activities/common/context';
import { PinoTemporalLogger } from '../../client/temporal/runtime-logging';
import { remoteTarget, tlsOptions } from '../../client/temporal/connection';
import { ConfigError, loadConfig } from '../../config';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-logging-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const lines = (file: string): Array<Record<string, unknown>> =>
  fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('inside an activity every line carries task, configuration, fold and attempt (null where not applicable)', () => {
  const file = path.join(tmp, 'a', 'activity.log');
  const root = createLogger({ destination: file, level: 'debug' });
  const context = { workflowId: 'nnunet-task-004', node: 'train/3d_fullres/2' };
  runWithLogContext({ task: 'Task004_Hippocampus', configuration: '3d_fullres', fold: 2, attempt: 3, activity: 'train', ...context }, () => root.info({ epoch: 7 }, 'epoch done'));
  runWithLogContext({ task: 'Task004_Hippocampus', attempt: 1, activity: 'fingerprint', ...context }, () => root.warn('fingerprint slow'));
  root.info('outside');
  const [a, b, c] = lines(file);
  assert.deepEqual([a.task, a.configuration, a.fold, a.attempt, a.activity, a.epoch, a.msg, a.level], ['Task004_Hippocampus', '3d_fullres', 2, 3, 'train', 7, 'epoch done', 30]);
  assert.deepEqual([b.task, b.configuration, b.fold, b.attempt, b.level], ['Task004_Hippocampus', null, null, 1, 40]);
  assert.deepEqual([c.msg, 'task' in c, 'fold' in c], ['outside', false, false]);
});

test("Temporal's activity lines (ctx.log) get the running activity's configuration and fold", () => {
  const file = path.join(tmp, 'ctx-log.log');
  const logger = new PinoTemporalLogger(createLogger({ destination: file, level: 'info' }));
  const ctx = { task: 'Task004_X', configuration: '2d' as const, fold: 1 as const, attempt: 2, activity: 'train', node: 'train/2d/1', workflowId: 'w' };
  runWithLogContext(ctx, () => logger.info('epoch 3/10', { sdkComponent: 'activity', attempt: 2 }));
  const [line] = lines(file);
  assert.deepEqual([line.task, line.configuration, line.fold, line.attempt, line.node, line.msg], ['Task004_X', '2d', 1, 2, 'train/2d/1', 'epoch 3/10']);
});

test("Temporal SDK lines go through pino; activity lines get the four keys, the task token is dropped", () => {
  const file = path.join(tmp, 'temporal.log');
  const logger = new PinoTemporalLogger(createLogger({ destination: file, level: 'info' }));
  logger.info('verifyDataset started', { sdkComponent: 'activity', attempt: 1, task: 'Task004_X', taskToken: 'secret-ish' });
  logger.warn('worker state changed', { sdkComponent: 'worker', state: 'DRAINING' });
  logger.debug('below the level');
  const [act, worker, ...rest] = lines(file);
  assert.deepEqual([act.task, act.configuration, act.fold, act.attempt, act.msg], ['Task004_X', null, null, 1, 'verifyDataset started']);
  assert.ok(!('taskToken' in act));
  assert.deepEqual([worker.state, worker.level, 'fold' in worker], ['DRAINING', 40, false]);
  assert.equal(rest.length, 0);
});

test('TLS: certificate files are read when the config loads a remote target; a missing one names its key', () => {
  const cert = path.join(tmp, 'c.pem');
  const key = path.join(tmp, 'c.key');
  fs.writeFileSync(cert, 'CERT');
  fs.writeFileSync(key, 'KEY');
  const c = loadConfig({ env: { TEMPORAL_ADDRESS: 'temporal.lab:7233', TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_SERVER_NAME: 'temporal.lab' } });
  const target = remoteTarget(c.temporal);
  assert.equal(target?.address, 'temporal.lab:7233');
  assert.equal(target?.tls?.clientCertPair?.crt.toString(), 'CERT');
  assert.equal(target?.tls?.clientCertPair?.key.toString(), 'KEY');
  assert.equal(target?.tls?.serverNameOverride, 'temporal.lab');
  assert.equal(remoteTarget(loadConfig({ env: {} }).temporal), undefined, 'no address: embedded');
  const missing = loadConfig({ env: { TEMPORAL_ADDRESS: 'h:1', TEMPORAL_TLS_CA: path.join(tmp, 'nope.pem') } });
  assert.throws(() => tlsOptions(missing.temporal), (err: unknown) => err instanceof ConfigError && /temporal\.tls\.caPath: cannot read .*nope\.pem \(ENOENT\)/.test(err.message));
});
