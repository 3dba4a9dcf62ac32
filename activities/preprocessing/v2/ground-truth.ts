/**
 * The last step of nnU-Net v2's preprocess_dataset: every training label copied to
 * nnUNet_preprocessed/<Dataset>/gt_segmentations (only newer ones, as v2's copy_file(update=True)), the references
 * the validation, accumulate_crossval_results and find_best_configuration compare against.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskPaths } from '../../contract';
import { tempSibling } from '../../common/atomic';
import { readDataset } from '../../io/dataset';
import { gtSegmentationsFolder } from '../../io/layout';

export function copyGroundTruthV2(paths: Pick<TaskPaths, 'rawDir' | 'preprocessedDir'>): void {
  const d = readDataset(paths.rawDir);
  const dir = gtSegmentationsFolder(paths.preprocessedDir);
  fs.mkdirSync(dir, { recursive: true });
  for (const c of d.training) {
    if (!c.label) continue;
    const target = path.join(dir, c.id + d.fileEnding);
    if (fs.existsSync(target) && fs.statSync(target).mtimeMs >= fs.statSync(c.label).mtimeMs) continue;
    // Through a temporary sibling: a worker killed mid-copy leaves no truncated reference.
    const tmp = tempSibling(target);
    fs.copyFileSync(c.label, tmp);
    fs.renameSync(tmp, target);
  }
}
