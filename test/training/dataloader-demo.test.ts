// End to end on real pipeline output: demo task -> fingerprint -> plan -> preprocess, then the training and
// validation producers read the stage folders for 3d_fullres and 2d.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { plan } from '../../activities/planning/activity';
import { readPlansFile } from '../../activities/planning/plans-file';
import { stages } from '../../activities/planning/plans';
import { plannedCaseIds, runPreprocess } from '../../activities/preprocessing/preprocess';
import { BatchProducer, producerOptionsForStage } from '../../activities/training/batch-worker';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-dl-demo-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('producers on a preprocessed demo task (3d_fullres and 2d)', async () => {
  const raw = path.join(root, 'raw');
  const demo = await writeDemoDataset(raw, { taskId: 990, cases: 3, testCases: 0 });
  const paths = {
    taskName: demo.taskName,
    rawDir: demo.outDir,
    croppedDir: path.join(raw, 'nnUNet_cropped_data', demo.taskName),
    preprocessedDir: path.join(root, 'pp', demo.taskName),
    resultsDir: path.join(root, 'results'),
  };
  const fp = await runFingerprint(paths, { numProcesses: 1 });
  const planned = await plan({ paths, fingerprintFile: fp.fingerprintFile });
  for (const [kind, configuration] of [['3d', '3d_fullres'], ['2d', '2d']] as const) {
    const plans = readPlansFile(planned.plansFiles[kind]!);
    const stage = stages(plans).at(-1)!;
    const { dataDir } = await runPreprocess(paths, planned.plansFiles[kind]!, configuration, { numProcesses: 1 });
    const caseIds = plannedCaseIds(plans);
    for (const purpose of kind === '3d' ? (['train', 'validation'] as const) : (['train'] as const)) {
      const producer = new BatchProducer(producerOptionsForStage({ stage, useMaskForNorm: plans.use_mask_for_norm, dir: dataDir, caseIds, purpose, seed: 1, queueSize: 2 }));
      try {
        const b = await producer.next();
        const B = stage.batch_size;
        assert.deepEqual(b.dataShape, [B, ...stage.patch_size, plans.num_modalities], `${configuration} ${purpose}`);
        assert.deepEqual(b.targets[0]!.shape, [B, ...stage.patch_size]);
        assert.equal(b.targets.length, stage.pool_op_kernel_sizes.length);
        assert.ok(b.targets.every((t) => t.data.every((v) => v >= 0 && v <= plans.num_classes)), 'labels 0..K-1');
        assert.ok(b.data.every(Number.isFinite));
        // The last sample is forced to contain foreground (its class locations are non-empty in the demo).
        const n = stage.patch_size.reduce((a, c) => a * c, 1);
        if (purpose === 'validation') assert.ok(b.targets[0]!.data.subarray((B - 1) * n).some((v) => v > 0), `${configuration}: forced fg`);
      } finally {
        await producer.close();
      }
    }
  }
});
