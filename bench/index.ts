/**
 * `npm run bench -- <subcommand> [options]`: benchmarks, not timed tests (figures in docs/benchmarks.md).
 * Without a subcommand (or with help / --help) it lists them and exits 0.
 */
import { benchBackends } from './backends';
import { benchInference } from './inference';
import { benchIteration } from './iteration';
import { benchMixedPrecision } from './mixed-precision';
import { benchPreprocessing } from './preprocessing';
import { profileUnet } from './profile-unet';
import { benchVsNnunet } from './vs-nnunet';
import { benchV2Augmentation } from './v2-augmentation';

interface Subcommand { run: (argv: string[]) => Promise<void>; measures: string }

/** `training` is `backends` on the two nnU-Net iterations: the same children, the same table. */
const benchTraining = (argv: string[]): Promise<void> => benchBackends(['--workloads', 'unet3d,unet2d', ...argv]);

export const SUBCOMMANDS: Record<string, Subcommand> = {
  preprocessing: { run: benchPreprocessing, measures: 'cases/s and peak RSS of fingerprint and 3d_fullres preprocessing (demo task; MSD Hippocampus when ../shared/realdata has it)' },
  inference: { run: benchInference, measures: 'seconds per case with and without mirroring TTA, peak RSS: demo task 3d_fullres and a synthetic 512x512 CT volume' },
  training: { run: benchTraining, measures: 'iterations/s and peak RSS of nnU-Net training iterations (demo 3d_fullres and 2d plans) per backend; = backends --workloads unet3d,unet2d' },
  backends: { run: benchBackends, measures: 'a training step (conv3d, conv2d, unet3d, unet2d) per tensor backend and PyTorch CPU, with ratios' },
  'vs-nnunet': { run: benchVsNnunet, measures: 'ours vs nnU-Net v1\'s own code, same plans and data (Hippocampus): training iteration, network step, inference, preprocessing, GFLOP/s; ratio table + JSON (--parts, --quick, --help)' },
  iteration: { run: benchIteration, measures: 'a whole training iteration on a preprocessed stage: batch production parts, network step, in-thread vs background batch workers' },
  'v2-augmentation': { run: benchV2Augmentation, measures: 'nnU-Net v2 training batches: batchgeneratorsv2 transforms vs the v1 pipeline (CPU per batch) and a short nnUNetv2_train per pipeline (pseudo-Dice), demo task' },
  precision: { run: benchMixedPrecision, measures: 'Conv3D forward/backward in float32, bfloat16 and float16 through the native binding; --step: the network step with bfloat16 convs (training.precision) vs float32, s/step and losses' },
  profile: { run: profileUnet, measures: 'where a U-Net iteration\'s time goes on one backend (per TensorFlow op)' },
};

export function helpText(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((k) => k.length));
  return ['usage: npm run bench -- <subcommand> [options]', '',
    ...Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(width)}  ${s.measures}`), '',
    'Each stage runs in a child process of its own (peak RSS is its own). See docs/benchmarks.md.'].join('\n');
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(helpText());
    return;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) {
    console.error(`unknown benchmark '${name}'\n${helpText()}`);
    process.exit(2);
  }
  await sub.run(rest);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
