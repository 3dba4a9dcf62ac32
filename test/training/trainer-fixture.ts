/**
 * A tiny preprocessed task for the trainer tests: the demo generator's task (5 cases, so 5 folds exist), run
 * through fingerprint, plan and preprocess, then the 3D plan's stage shrunk to a tiny network (base 4 features,
 * 16³ patch, two poolings, batch 2). The plans file is rewritten after preprocessing: the stored cases depend on
 * the stage's spacing, not on its patch or network, so they stay valid.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TaskPaths } from '../../activities/contract';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { writeDemoDataset, type DemoOptions } from '../../activities/io/demo';
import { taskPaths } from '../../activities/io/dataset';
import { plan } from '../../activities/planning/activity';
import { readPlansFile, writePlansFile } from '../../activities/planning/plans-file';
import { stages } from '../../activities/planning/plans';
import { runPreprocess } from '../../activities/preprocessing/preprocess';

export interface TinyTask { root: string; paths: TaskPaths; plansFile: string; cleanup(): void }

/** `labels`: the demo's --regions / --ignore-label variants (default: the plain v1 task). */
export async function tinyTrainingTask(labels: Pick<DemoOptions, 'regions' | 'ignoreLabel'> = {}): Promise<TinyTask> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-train-'));
  const roots = { rawDataBase: path.join(root, 'raw'), preprocessed: path.join(root, 'preprocessed'), results: path.join(root, 'results') };
  const demo = await writeDemoDataset(roots.rawDataBase, { taskId: 990, cases: 5, testCases: 0, seed: 3, ...labels });
  const paths = taskPaths(demo.outDir, roots);
  const fp = await runFingerprint(paths, { numProcesses: 1 });
  const planned = await plan({ paths, fingerprintFile: fp.fingerprintFile });
  const plansFile = planned.plansFiles['3d']!;
  await runPreprocess(paths, plansFile, '3d_fullres', { numProcesses: 1 });
  const plans = readPlansFile(plansFile);
  const stage = stages(plans).at(-1)!;
  Object.assign(stage, {
    patch_size: [16, 16, 16], batch_size: 2, num_pool_per_axis: [2, 2, 2],
    pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]], do_dummy_2D_data_aug: false,
  });
  plans.base_num_features = 4;
  writePlansFile(plansFile, plans);
  return { root, paths, plansFile, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}
