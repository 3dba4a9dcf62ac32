/**
 * `npm run bench -- profile [unet3d|unet2d] [--steps N] [--threads N] [--backend id]`: where the time of one U-Net
 * training iteration goes on a backend: wall and CPU ms per step, then kernel time per TensorFlow op
 * (tf.profile). For finding what to optimise, not a figure to compare across machines.
 */
import * as tf from '@tensorflow/tfjs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { initBackend, isBackendId } from '../activities/network/backend';
import { demoBenchPlans } from './demo-plan';
import { buildUNetStep } from './unet-step';

export async function profileUnet(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { steps: { type: 'string', default: '3' }, threads: { type: 'string', default: String(os.availableParallelism()) }, backend: { type: 'string', default: 'tfjs-node' }, top: { type: 'string', default: '20' }, detail: { type: 'boolean', default: false } },
  });
  const which = positionals[0] ?? 'unet3d';
  if ((which !== 'unet3d' && which !== 'unet2d') || !isBackendId(values.backend)) throw new Error('usage: profile [unet3d|unet2d] [--steps N] [--threads N] [--backend id]');
  const choice = await initBackend({ preference: values.backend, threads: Number(values.threads) });
  const step = buildUNetStep((await demoBenchPlans())[which]);
  let t = performance.now();
  await step.run();
  console.log(`${which} on ${choice.detail}: first step ${(performance.now() - t).toFixed(0)} ms`);
  const steps = Number(values.steps);
  t = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < steps; i++) await step.run();
  const used = process.cpuUsage(cpu);
  console.log(`${((performance.now() - t) / steps).toFixed(0)} ms/step wall, ${((used.user + used.system) / 1000 / steps).toFixed(0)} ms/step CPU (load ${os.loadavg()[0]!.toFixed(1)})`);
  const prof = await tf.profile(async () => { await step.run(); });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`kernel time ${total.toFixed(0)} ms in ${prof.kernels.length} kernels; by op:`);
  for (const [name, e] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top))) {
    console.log(`  ${name.padEnd(26)} ${e.ms.toFixed(0).padStart(6)} ms ${String(e.calls).padStart(5)} calls`);
  }
  if (values.detail) {
    console.log('slowest single kernels (input shapes):');
    for (const k of [...prof.kernels].sort((a, b) => Number(b.kernelTimeMs) - Number(a.kernelTimeMs)).slice(0, Number(values.top))) {
      console.log(`  ${k.name.padEnd(26)} ${Number(k.kernelTimeMs).toFixed(0).padStart(6)} ms  ${k.inputShapes.map((s) => `[${s?.join(',')}]`).join(' ')}`);
    }
  }
  step.dispose();
}
