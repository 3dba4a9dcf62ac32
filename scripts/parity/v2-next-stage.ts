/**
 * The 3d_lowres → 3d_cascade_fullres export (training/v2/cascade.ts, nnunetv2's resample_and_save) against
 * nnunetv2: random logits of 3 classes on a 6×10×12 lowres grid with anisotropic spacing (4, 1, 1), so the
 * resampling goes z separately (order_z 0, order 1 in-plane), up to 23×20×25; v2_next_stage.py runs
 * resample_and_save on the same float16 logits. Prints the voxels whose label differs and both dtypes.
 * Usage: node dist/scripts/parity/v2-next-stage.js (needs /usr/bin/python3 with torch and nnunetv2).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MT19937 } from '../../activities/common/mt19937';
import { doubleToHalf } from '../../activities/inference/v2/half';
import { writeNpy } from '../../activities/io/npy';
import { readNpz } from '../../activities/io/npz';
import { nextStageSegmentation } from '../../activities/training/v2/cascade';
import type { Shape3 } from '../../activities/volume/crop';
import { tinyPlansV2 } from '../../test/training/v2/fixture';

const SHAPE: Shape3 = [6, 10, 12];
const TARGET: Shape3 = [23, 20, 25];
const HEADS = 3;

function main(): void {
  const check = fs.mkdtempSync(path.join(os.tmpdir(), 'v2-next-stage-'));
  try {
    const plans = tinyPlansV2() as { configurations: Record<string, Record<string, unknown>> };
    const low = { ...plans.configurations['3d_fullres']!, data_identifier: 'nnUNetPlans_3d_lowres', spacing: [4, 1, 1], next_stage: '3d_cascade_fullres' };
    plans.configurations['3d_lowres'] = low;
    const ds = { channel_names: { 0: 'MRI' }, labels: { background: 0, a: 1, b: 2 }, numTraining: 1, file_ending: '.nii.gz' };
    fs.writeFileSync(path.join(check, 'plans.json'), JSON.stringify(plans));
    fs.writeFileSync(path.join(check, 'dataset.json'), JSON.stringify(ds));
    fs.writeFileSync(path.join(check, 'case.json'), JSON.stringify({ spacing: [2, 0.5, 0.5], target_shape: TARGET, shape_after_cropping_and_before_resampling: TARGET }));
    const rng = new MT19937(11);
    const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
    const logits = Float32Array.from({ length: HEADS * n }, () => doubleToHalf(3 * rng.standardNormal()));
    writeNpy(path.join(check, 'logits.npy'), { data: logits, shape: [HEADS, ...SHAPE], dtype: 'float32' });
    console.log(execFileSync('/usr/bin/python3', [path.join(__dirname, '..', '..', '..', 'scripts', 'parity', 'v2_next_stage.py'), check], { encoding: 'utf8' }).trim());
    const ours = nextStageSegmentation(logits, HEADS, SHAPE, TARGET, { configuration: low, transposeForward: [0, 1, 2], source: 'plans.json' });
    const torch = readNpz(path.join(check, 'torch_case.npz')).seg!;
    let differ = 0;
    ours.forEach((v, i) => { if (v !== (torch.data as Uint8Array)[i]) differ++; });
    console.log(`resample_and_save ${SHAPE.join('x')} -> ${TARGET.join('x')}: torch ${torch.dtype} [${torch.shape.join(', ')}], ${differ} of ${ours.length} labels differ`);
  } finally {
    fs.rmSync(check, { recursive: true, force: true });
  }
}

main();
