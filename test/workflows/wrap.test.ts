/** The worker's activity wrapper: logging context and error mapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { wrapActivities } from '../../worker/wrap';
import { currentLogContext } from '../../activities/common/context';
import { BadInputError } from '../../activities/common/errors';
import { makeTaskPaths } from '../helpers/temporal';

const paths = makeTaskPaths('/tmp', 'Task004_Hippocampus');

test('every activity runs inside its log context: task, configuration, fold, attempt, node', async () => {
  const acts = wrapActivities({ train: async (_input: unknown) => currentLogContext() });
  const env = new MockActivityEnvironment({ attempt: 3, activityId: 'train/3d_fullres/2', activityType: 'train' });
  const ctx = await env.run(acts.train, { paths, configuration: '3d_fullres', fold: 2 });
  assert.ok(ctx);
  assert.deepEqual({ ...ctx, workflowId: undefined }, { task: 'Task004_Hippocampus', configuration: '3d_fullres', fold: 2, activity: 'train', node: 'train/3d_fullres/2', attempt: 3, workflowId: undefined });
  assert.equal(currentLogContext(), undefined, 'no context outside an activity');
});

test('errors: bad input becomes non-retryable; other errors stay retryable and record the attempt', async () => {
  const acts = wrapActivities({
    verifyDataset: async (_input: unknown) => { throw new BadInputError('dataset.json: numTraining is 5 but imagesTr has 4 cases', '/raw/dataset.json'); },
    preprocess: async (_input: unknown) => { throw new RangeError('out of memory'); },
  });
  const env = new MockActivityEnvironment({ attempt: 2 });
  await assert.rejects(env.run(acts.verifyDataset, { paths }), (err: unknown) =>
    err instanceof ApplicationFailure && err.type === 'BadInput' && err.nonRetryable && /numTraining is 5/.test(err.message));
  await assert.rejects(env.run(acts.preprocess, { paths }), (err: unknown) =>
    err instanceof ApplicationFailure && err.type === 'RangeError' && !err.nonRetryable && (err.details?.[0] as { attempt: number }).attempt === 2);
});
