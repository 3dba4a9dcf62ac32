/** The state tree, the per-change lines for logs, and line fitting for the live view. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DagNode, TaskState } from '../../workflows/state';
import { describeChanges, firstFailure, formatDuration, progressBar, renderTaskState } from '../../client/render/tree';
import { fitWidth } from '../../client/render/watch';

const node = (n: Partial<DagNode> & Pick<DagNode, 'id' | 'kind'>): DagNode => ({ status: 'pending', attempt: 0, ...n });
const T0 = '2026-01-01T00:00:00.000Z';

function state(nodes: DagNode[], status: TaskState['status'] = 'running'): TaskState {
  return { workflowId: 'nnunet-task-004', task: 'Task004_Hippocampus', status, nodes };
}

const running = state([
  node({ id: 'verify', kind: 'verify', status: 'done', attempt: 1, startedAt: T0, endedAt: '2026-01-01T00:00:02.000Z' }),
  node({ id: 'fingerprint', kind: 'fingerprint', status: 'done', attempt: 1 }),
  node({ id: 'plan', kind: 'plan', status: 'done', attempt: 1 }),
  node({ id: 'preprocess/2d', kind: 'preprocess', configuration: '2d', status: 'done', attempt: 1 }),
  node({ id: 'train/2d/0', kind: 'train', configuration: '2d', fold: 0, status: 'running', attempt: 2, startedAt: T0,
    progress: { epoch: 25, totalEpochs: 100, trainLoss: -0.61234, valLoss: -0.5, pseudoDice: [0.8, 0.7] } }),
  node({ id: 'train/2d/1', kind: 'train', configuration: '2d', fold: 1, status: 'failed', attempt: 1, endedAt: T0,
    error: 'BadInput: case 3 has no label\n  more detail' }),
  node({ id: 'preprocess/3d_fullres', kind: 'preprocess', configuration: '3d_fullres' }),
  node({ id: 'train/3d_fullres/0', kind: 'train', configuration: '3d_fullres', fold: 0 }),
  node({ id: 'findBest', kind: 'findBest' }),
  node({ id: 'postprocess', kind: 'postprocess' }),
]);

test('progress bar and durations', () => {
  assert.equal(progressBar(25, 100, 8), '[██░░░░░░]  25%');
  assert.equal(progressBar(5, 0, 4), '[░░░░]   0%');
  assert.equal(progressBar(200, 100, 4), '[████] 100%');
  assert.equal(formatDuration(59_400), '59s');
  assert.equal(formatDuration(61_000), '1m01s');
  assert.equal(formatDuration(3_720_000), '1h02m');
});

test('tree: head steps, one branch per configuration with its folds, tail steps; training shows progress', () => {
  const text = renderTaskState(running, { now: Date.parse('2026-01-01T00:05:00.000Z'), barWidth: 10 });
  const lines = text.split('\n');
  assert.equal(lines[0], 'Task004_Hippocampus  (nnunet-task-004)  running');
  assert.match(lines[1], /^✓ verify\s+done\s+2s$/);
  assert.equal(lines[4], '├─ 2d');
  assert.match(lines[5], /^│  ├─ ✓ preprocess 2d\s+done$/);
  assert.match(lines[6], /^│  ├─ ▶ fold 0\s+running\s+\[███░░░░░░░\]  25% epoch 25\/100  train -0\.6123  val -0\.5000  dice 0\.800\/0\.700  attempt 2  5m00s$/);
  assert.match(lines[7], /^│  └─ ✗ fold 1\s+failed/);
  assert.equal(lines[8], '│       error: BadInput: case 3 has no label more detail');
  assert.equal(lines[9], '├─ 3d_fullres');
  assert.match(lines[11], /^│  └─ · fold 0\s+pending$/);
  assert.match(lines[12], /^· find best configuration\s+pending$/);
  assert.match(lines[13], /^· postprocess\s+pending$/);
  assert.doesNotMatch(text, /\x1b\[/, 'no colour unless asked');
  assert.match(renderTaskState(running, { color: true }), /\x1b\[32m✓/);
});

test('first failure and per-change lines (the non-terminal view)', () => {
  assert.equal(firstFailure(running)?.id, 'train/2d/1');
  const first = describeChanges(undefined, running);
  assert.deepEqual(first, [
    'verify: done',
    'fingerprint: done',
    'plan: done',
    'preprocess/2d: done',
    'train/2d/0: running (attempt 2) epoch 25/100 train_loss -0.6123',
    'train/2d/1: failed: BadInput: case 3 has no label more detail',
  ]);
  assert.deepEqual(describeChanges(running, running), [], 'nothing changed, nothing printed');
  const next = structuredClone(running);
  next.nodes[4].progress!.epoch = 26;
  next.status = 'failed';
  assert.deepEqual(describeChanges(running, next), ['train/2d/0: running (attempt 2) epoch 26/100 train_loss -0.6123', 'task Task004_Hippocampus: failed']);
});

test('non-training heartbeat details are not shown as epochs', () => {
  const s = state([node({ id: 'fingerprint', kind: 'fingerprint', status: 'running', attempt: 1, progress: { done: 3 } as never })]);
  assert.deepEqual(describeChanges(undefined, s), ['fingerprint: running']);
  assert.doesNotMatch(renderTaskState(s), /epoch/);
});

test('fitWidth cuts visible characters and keeps colour codes whole', () => {
  assert.equal(fitWidth('short', 10), 'short');
  const cut = fitWidth('\x1b[32m✓\x1b[0m abcdefghij', 6);
  assert.equal(cut.replace(/\x1b\[[0-9;]*m/g, ''), '✓ abc…');
  assert.ok(cut.startsWith('\x1b[32m✓\x1b[0m'));
});

test('a scheduled step no worker has picked up yet shows as queued, a started one as running', () => {
  const { mergePendingActivities } = require('../../client/temporal/task-client') as typeof import('../../client/temporal/task-client');
  const { defaultPayloadConverter } = require('@temporalio/common') as typeof import('@temporalio/common');
  const folds = state([
    node({ id: 'train/3d_fullres/0', kind: 'train', configuration: '3d_fullres', fold: 0, status: 'running', attempt: 1 }),
    node({ id: 'train/3d_fullres/1', kind: 'train', configuration: '3d_fullres', fold: 1, status: 'running', attempt: 1 }),
  ]);
  const merged = mergePendingActivities(folds, [
    { activityId: 'train/3d_fullres/0', state: 2, attempt: 1 },
    { activityId: 'train/3d_fullres/1', state: 1, attempt: 1 },
  ], defaultPayloadConverter);
  assert.deepEqual(merged.nodes.map((n) => n.status), ['running', 'queued']);
  assert.match(renderTaskState(merged), /◌ fold 1\s+queued/);
});

test('durations count from a worker start, not from scheduling: ranMs for finished training, lastStartedTime while running', () => {
  const { mergePendingActivities } = require('../../client/temporal/task-client') as typeof import('../../client/temporal/task-client');
  const { defaultPayloadConverter } = require('@temporalio/common') as typeof import('@temporalio/common');
  const { msNumberToTs } = require('@temporalio/common/lib/time') as typeof import('@temporalio/common/lib/time');
  const finished = state([node({ id: 'train/2d/0', kind: 'train', configuration: '2d', fold: 0, status: 'done', attempt: 1,
    startedAt: T0, endedAt: '2026-01-01T00:15:00.000Z', ranMs: 125_000 })]);
  assert.match(renderTaskState(finished), /fold 0\s+done\s+2m05s$/m, 'the 13 minutes queued are not training time');
  const scheduledAtT0 = state([node({ id: 'train/2d/1', kind: 'train', configuration: '2d', fold: 1, status: 'running', attempt: 1, startedAt: T0 })]);
  const startedAt = Date.parse('2026-01-01T00:10:00.000Z');
  const merged = mergePendingActivities(scheduledAtT0, [
    { activityId: 'train/2d/1', state: 2, attempt: 1, lastStartedTime: msNumberToTs(startedAt) },
  ], defaultPayloadConverter);
  assert.equal(merged.nodes[0].startedAt, '2026-01-01T00:10:00.000Z');
  assert.match(renderTaskState(merged, { now: startedAt + 30_000 }), /fold 1\s+running\s+30s$/m);
});
