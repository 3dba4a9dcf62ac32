import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDag, DagOptionsError } from '../../workflows/dag';
import type { Configuration } from '../../activities/contract';

const ALL: Configuration[] = ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'];
const deps = (dag: ReturnType<typeof buildDag>, id: string) => dag.nodes.find((n) => n.id === id)?.dependsOn;
const ids = (dag: ReturnType<typeof buildDag>, kind: string) => dag.nodes.filter((n) => n.kind === kind).map((n) => n.id);

test('full pipeline: every planned configuration × 5 folds, cascade after all five lowres folds', () => {
  const dag = buildDag(ALL);
  assert.deepEqual(dag.configurations, ALL);
  assert.deepEqual(ids(dag, 'preprocess'), ['preprocess/2d', 'preprocess/3d_fullres', 'preprocess/3d_lowres']);
  assert.equal(ids(dag, 'train').length, 20);
  for (const f of [0, 1, 2, 3, 4]) {
    assert.deepEqual(deps(dag, `train/3d_cascade_fullres/${f}`), [
      'preprocess/3d_fullres', 'train/3d_lowres/0', 'train/3d_lowres/1', 'train/3d_lowres/2', 'train/3d_lowres/3', 'train/3d_lowres/4',
    ]);
  }
  assert.deepEqual(deps(dag, 'train/2d/3'), ['preprocess/2d']);
  assert.equal(deps(dag, 'findBest')?.length, 20);
  assert.deepEqual(deps(dag, 'postprocess'), ['findBest']);
  assert.deepEqual(deps(dag, 'fingerprint'), ['verify']);
});

test('no cascade when planning made no lowres stage', () => {
  const dag = buildDag(['2d', '3d_fullres']);
  assert.deepEqual(dag.configurations, ['2d', '3d_fullres']);
  assert.ok(!dag.nodes.some((n) => n.configuration === '3d_cascade_fullres' || n.configuration === '3d_lowres'));
});

test('no cascade when 3d_lowres is not selected, with a note saying why', () => {
  const dag = buildDag(ALL, { configurations: ['3d_fullres', '3d_cascade_fullres'] });
  assert.deepEqual(dag.configurations, ['3d_fullres']);
  assert.match(dag.notes.join('\n'), /3d_cascade_fullres skipped: it needs 3d_lowres/);
});

test('cascade only: trains on 3d_fullres data and pulls in all five lowres folds for a fold subset', () => {
  const dag = buildDag(ALL, { configurations: ['3d_lowres', '3d_cascade_fullres'], folds: [1] });
  assert.deepEqual(ids(dag, 'preprocess'), ['preprocess/3d_fullres', 'preprocess/3d_lowres']);
  assert.deepEqual(ids(dag, 'train'), [
    'train/3d_lowres/0', 'train/3d_lowres/1', 'train/3d_lowres/2', 'train/3d_lowres/3', 'train/3d_lowres/4', 'train/3d_cascade_fullres/1',
  ]);
  assert.deepEqual(dag.cvFolds, [1]);
  assert.match(dag.notes.join('\n'), /folds 0-4 added/);
});

test('fold subsets and fold all: find-best only over cross-validation folds; all-only skips find-best', () => {
  const dag = buildDag(['2d', '3d_fullres'], { folds: ['all', 2, 0, 2] });
  assert.deepEqual(dag.folds, [0, 2, 'all']);
  assert.deepEqual(ids(dag, 'train'), ['train/2d/0', 'train/2d/2', 'train/2d/all', 'train/3d_fullres/0', 'train/3d_fullres/2', 'train/3d_fullres/all']);
  assert.deepEqual(deps(dag, 'findBest'), ['train/2d/0', 'train/2d/2', 'train/3d_fullres/0', 'train/3d_fullres/2']);
  const allOnly = buildDag(['2d'], { folds: ['all'] });
  assert.deepEqual(ids(allOnly, 'findBest'), []);
  assert.deepEqual(ids(allOnly, 'postprocess'), []);
});

test('selected but unplanned configurations are dropped with a note; find-best and postprocess can be turned off', () => {
  const dag = buildDag(['2d', '3d_fullres'], { configurations: ['3d_lowres', '2d'], postprocess: false });
  assert.deepEqual(dag.configurations, ['2d']);
  assert.match(dag.notes.join('\n'), /3d_lowres skipped: planning did not create it/);
  assert.deepEqual(ids(dag, 'findBest'), ['findBest']);
  assert.deepEqual(ids(dag, 'postprocess'), []);
  assert.deepEqual(ids(buildDag(['2d'], { findBest: false }), 'findBest'), []);
});

test('bad options fail with a clear message', () => {
  assert.throws(() => buildDag(ALL, { configurations: ['3d' as Configuration] }), (e: unknown) => e instanceof DagOptionsError && /unknown configuration '3d'/.test(e.message));
  assert.throws(() => buildDag(ALL, { folds: [7 as 0] }), /unknown fold '7'/);
  assert.throws(() => buildDag(ALL, { folds: [] }), /no folds selected/);
  assert.throws(() => buildDag(ALL, { epochs: 0 }), /epochs must be a positive integer/);
  assert.throws(() => buildDag(ALL, { validation: { tta: false, stepSize: 0 } }), (e: unknown) => e instanceof DagOptionsError && /validation\.stepSize must be in \(0, 1\]/.test(e.message));
  assert.throws(() => buildDag(ALL, { validation: { tta: 'no' as unknown as boolean, stepSize: 0.5 } }), /validation\.tta must be true or false/);
});

test("stopAfter 'preprocess': the same nodes, train/findBest/postprocess marked skipped with a reason, with a note", () => {
  const full = buildDag(['2d', '3d_fullres'], { folds: [0] });
  const dag = buildDag(['2d', '3d_fullres'], { folds: [0], stopAfter: 'preprocess' });
  assert.deepEqual(dag.nodes.map((n) => n.id), full.nodes.map((n) => n.id));
  for (const n of dag.nodes) {
    const later = n.kind === 'train' || n.kind === 'findBest' || n.kind === 'postprocess';
    assert.equal(n.skip !== undefined, later, n.id);
  }
  assert.match(dag.nodes.find((n) => n.id === 'train/2d/0')!.skip!, /stopped after preprocessing/);
  assert.match(dag.notes.join('\n'), /training, find-best and postprocessing stopped after preprocessing/);
  assert.throws(() => buildDag(['2d'], { stopAfter: 'train' as never }), DagOptionsError);
});

test('predict: a node after postprocessing (after find-best without it), only when asked and find-best runs; skipped by stopAfter', () => {
  const planned = ['2d', '3d_fullres'] as const;
  const node = (options: Parameters<typeof buildDag>[1]) => buildDag(planned, options).nodes.find((n) => n.kind === 'predict');
  assert.equal(node({}), undefined, 'off unless the client asks (imagesTs exists)');
  assert.deepEqual(node({ predict: true })?.dependsOn, ['postprocess']);
  assert.deepEqual(node({ predict: true, postprocess: false })?.dependsOn, ['findBest']);
  assert.equal(node({ predict: true, findBest: false }), undefined, 'it predicts with find-best\'s winner');
  assert.equal(node({ predict: true, folds: ['all'] }), undefined);
  assert.match(node({ predict: true, stopAfter: 'preprocess' })?.skip ?? '', /stopped after preprocessing/);
});

test('method v2: the same nodes as v1, the cascade after all five 3d_lowres folds; an unknown method is refused', () => {
  const dag = buildDag(ALL, { method: 'v2' });
  assert.deepEqual(dag.nodes, buildDag(ALL).nodes, 'v2 trains the cascade as v1 does');
  assert.deepEqual(dag.configurations, ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres']);
  assert.deepEqual(ids(dag, 'preprocess'), ['preprocess/2d', 'preprocess/3d_fullres', 'preprocess/3d_lowres']);
  assert.deepEqual(deps(dag, 'train/3d_cascade_fullres/2'), ['preprocess/3d_fullres', ...[0, 1, 2, 3, 4].map((f) => `train/3d_lowres/${f}`)]);
  assert.deepEqual(deps(dag, 'findBest'), ids(dag, 'train'), 'find-best considers the cascade');
  const subset = buildDag(ALL, { method: 'v2', configurations: ['3d_lowres', '3d_cascade_fullres'], folds: [0] });
  assert.deepEqual(ids(subset, 'train'), ['train/3d_lowres/0', 'train/3d_lowres/1', 'train/3d_lowres/2', 'train/3d_lowres/3', 'train/3d_lowres/4', 'train/3d_cascade_fullres/0']);
  assert.deepEqual(buildDag(['2d', '3d_fullres'], { method: 'v2' }).nodes, buildDag(['2d', '3d_fullres']).nodes);
  assert.throws(() => buildDag(ALL, { method: 'v3' as 'v2' }), (e: unknown) => e instanceof DagOptionsError && /unknown method 'v3'/.test(e.message));
});

test('method v2 replaying a run recorded before the v2 cascade: 3d_cascade_fullres left out, with the note it had', () => {
  const dag = buildDag(ALL, { method: 'v2', v2WithoutCascade: true });
  assert.deepEqual(dag.configurations, ['2d', '3d_fullres', '3d_lowres']);
  assert.ok(dag.notes.some((n) => /3d_cascade_fullres skipped: the nnU-Net v2 trainer has no cascade/.test(n)));
  assert.equal(ids(dag, 'train').length, 15);
  assert.deepEqual(buildDag(ALL, { v2WithoutCascade: true }).nodes, buildDag(ALL).nodes, 'v1 ignores it');
});
