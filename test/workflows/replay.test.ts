/**
 * Workflow evolution guard: every history committed under test/workflows/fixtures/histories (recorded by
 * earlier workflow code, see scripts/record-workflow-histories.ts) must replay against today's workflows
 * bundle. A change that would break running workflows fails here unless it is guarded with patched().
 * Replay needs no Temporal server, so this test never skips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { quietRuntime, testWorkflowBundle } from '../helpers/temporal';
import { HISTORIES_DIR, historyFromJson, loadHistoryFixtures } from '../helpers/history-json';

test('every recorded workflow history replays against the current workflow code', async (tc) => {
  quietRuntime();
  const fixtures = loadHistoryFixtures();
  assert.ok(fixtures.length > 0, `no recorded histories under ${HISTORIES_DIR}: run scripts/record-workflow-histories.ts`);
  const histories = fixtures.map(({ file, fixture }) => ({ workflowId: fixture.workflowId, history: historyFromJson(fixture.history), file }));
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: await testWorkflowBundle() }, histories)) results.push(r);
  const failed = results.map((r, i) => ({ file: histories[i].file, error: r.error })).filter((r) => r.error);
  assert.deepEqual(failed.map((f) => `${f.file}: ${f.error?.message}`), [], 'histories that no longer replay (guard the change with patched())');
  assert.equal(results.length, fixtures.length, 'each fixture replayed');
  tc.diagnostic(`${results.length} recorded histories replayed`);
});

test('the fixtures cover the task workflow (normal, cascade, cancelled, v2) and the sweep workflow', () => {
  const scenarios = new Set(loadHistoryFixtures().map(({ fixture }) => `${fixture.workflowType}/${fixture.scenario}`));
  for (const s of ['taskWorkflow/task-normal', 'taskWorkflow/task-cascade', 'taskWorkflow/task-cancelled', 'sweepWorkflow/sweep', 'taskWorkflow/sweep', 'taskWorkflow/task-waits-for-running-fold', 'taskWorkflow/task-v2', 'taskWorkflow/task-v2-waits-for-running-fold']) {
    assert.ok(scenarios.has(s), `a recorded ${s} history`);
  }
});
