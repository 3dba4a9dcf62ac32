/**
 * bench/nnunet-tree.ts: our planned and preprocessed task written as nnU-Net v1's preprocessed folder, which
 * `bench vs-nnunet` hands to nnU-Net's trainer. Read back with our own pickle/npz readers (no Python needed):
 * the same plans, arrays, properties and split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { readNpySync } from '../../activities/io/npy';
import { readNpz } from '../../activities/io/npz';
import { readCasePropertiesPkl, readSplitsPkl } from '../../activities/io/nnunet-pickles';
import { readCaseProperties } from '../../activities/io/properties';
import { gtSegmentationsFolder, nnunetCaseFiles, preprocessedCaseFiles, splitsFile, splitsPklFile } from '../../activities/io/layout';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { plan } from '../../activities/planning/activity';
import { readPlansFile } from '../../activities/planning/plans-file';
import { readPlansPkl } from '../../activities/planning/plans-pkl';
import { runPreprocess } from '../../activities/preprocessing/preprocess';
import { readSplitsFile } from '../../activities/training/splits';
import { freshPaths } from '../../bench/datasets';
import { writeNnunetTree } from '../../bench/nnunet-tree';

test('writeNnunetTree: nnU-Net plans .pkl, per case .npy/.npz/.pkl, splits_final.pkl and gt_segmentations from our task', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-tree-test-'));
  try {
    const { outDir } = await writeDemoDataset(path.join(root, 'raw'), { taskId: 951, cases: 5, testCases: 0 });
    const paths = freshPaths(outDir, path.join(root, 'work'));
    const { fingerprintFile } = await runFingerprint(paths, { numProcesses: 1 });
    const { plansFiles } = await plan({ paths, fingerprintFile });
    await runPreprocess(paths, plansFiles['3d']!, '3d_fullres', { numProcesses: 1 });
    const theirs = { preprocessedDir: path.join(root, 'nnUNet_preprocessed', paths.taskName) };
    const [stage] = writeNnunetTree(paths, { '3d_fullres': plansFiles['3d']! }, theirs);

    assert.equal(stage!.caseIds.length, 5);
    assert.deepEqual(readPlansPkl(stage!.plansFile).plans_per_stage, readPlansFile(plansFiles['3d']!).plans_per_stage);
    const theirDir = path.join(stage!.datasetDir, path.basename(stage!.ourDataDir));
    for (const id of stage!.caseIds) {
      const ours = preprocessedCaseFiles(stage!.ourDataDir, id);
      const files = nnunetCaseFiles(theirDir, id);
      assert.ok(fs.readFileSync(files.npy).equals(fs.readFileSync(ours.data)), `${id}.npy is our array`);
      const arr = readNpySync(ours.data);
      assert.deepEqual(readNpz(files.npz).data!.shape, arr.shape);
      const props = readCasePropertiesPkl(files.pkl);
      const ourProps = readCaseProperties(ours.properties);
      assert.deepEqual(props.size_after_cropping, ourProps.size_after_cropping);
      assert.deepEqual(props.class_locations, ourProps.class_locations);
    }
    assert.deepEqual(readSplitsPkl(splitsPklFile(theirs)), readSplitsFile(splitsFile(paths), stage!.caseIds));
    assert.ok(fs.existsSync(gtSegmentationsFolder(theirs.preprocessedDir)));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
