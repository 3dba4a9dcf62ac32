/**
 * `npm run bench -- precision`: can the native backend run the U-Net's convolutions in 16 bits? tfjs has no
 * 16-bit dtype, so this calls TensorFlow through tfjs-node's binding: Cast → conv op with T = float16 or
 * bfloat16 → Cast back, the 16-bit tensors staying native. Prints ms per call of the forward and both backward
 * convolutions per dtype (two rounds, the first warms oneDNN up), the error against float32, and whether
 * tfjs can hold the 16-bit result. `precision --step [--steps N] [--configs 3d_fullres,2d]`: the whole network step
 * (trainStep, demo plans, one fixed batch, the same initial weights) with the convolutions in float32, then in
 * bfloat16 (network/bf16-conv.ts): seconds per step and the losses after each step. Findings: docs/training.md,
 * 'Mixed precision'.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../activities/network/backend';
import { useConvPrecision, whyBf16Slow, type Precision } from '../activities/network/bf16-conv';
import { demoBenchPlans } from './demo-plan';
import { buildUNetStep } from './unet-step';

interface NativeTensor { id: number; shape: number[]; dtype: number }
interface OpAttr { name: string; type: number; value: unknown }
interface Binding {
  TF_FLOAT: number; TF_ATTR_TYPE: number; TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number;
  executeOp(name: string, attrs: OpAttr[], inputs: number[], numOutputs: number): NativeTensor[];
  deleteTensor(id: number): void;
}
interface NodeBackend { binding: Binding; getInputTensorIds(t: tf.Tensor[]): number[]; createOutputTensor(m: NativeTensor): tf.Tensor }

/** TensorFlow's TF_DataType numbers (tf_datatype.h); tfjs-node's binding exports only the ones tfjs uses. */
const TF_BFLOAT16 = 14;
const TF_HALF = 19;

function kernels(be: NodeBackend) {
  const b = be.binding;
  const type = (name: string, value: number): OpAttr => ({ name, type: b.TF_ATTR_TYPE, value });
  const run = (op: string, attrs: OpAttr[], ids: number[]) => b.executeOp(op, attrs, ids, 1)[0]!;
  const conv = (T: number): OpAttr[] => [type('T', T), { name: 'strides', type: b.TF_ATTR_INT, value: [1, 1, 1, 1, 1] },
    { name: 'padding', type: b.TF_ATTR_STRING, value: 'SAME' }, { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NDHWC' },
    { name: 'dilations', type: b.TF_ATTR_INT, value: [1, 1, 1, 1, 1] }];
  const cast = (id: number, from: number, to: number) =>
    run('Cast', [type('SrcT', from), type('DstT', to), { name: 'Truncate', type: b.TF_ATTR_BOOL, value: false }], [id]);
  const msPerCall = (op: string, attrs: OpAttr[], ids: number[], reps = 8) => {
    b.deleteTensor(run(op, attrs, ids).id);
    const t = performance.now();
    for (let i = 0; i < reps; i++) b.deleteTensor(run(op, attrs, ids).id);
    return (performance.now() - t) / reps;
  };
  return { b, run, conv, cast, msPerCall };
}

/** N network steps per precision on each demo plan, alternating float32 / bfloat16 so load drifts hit both. */
async function benchStep(argv: string[]): Promise<void> {
  const opt = (name: string, fallback: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : fallback; };
  const steps = Number(opt('steps', '3'));
  const configs = opt('configs', '3d_fullres,2d').split(',');
  const plans = await demoBenchPlans();
  await initBackend({ preference: 'tfjs-node' });
  console.log(`bfloat16 here: ${whyBf16Slow() ?? 'native (oneDNN or CUDA)'}`);
  for (const stage of [plans.unet3d, plans.unet2d].filter((st) => configs.includes(st.configuration))) {
    const result: Partial<Record<Precision, { seconds: number[]; losses: number[] }>> = {};
    for (const precision of ['float32', 'bfloat16'] as const) {
      useConvPrecision(precision, { allowEmulated: true });
      const step = buildUNetStep(stage);
      const r = { seconds: [] as number[], losses: [] as number[] };
      for (let i = 0; i < steps; i++) {
        const t = performance.now();
        r.losses.push(await step.run());
        r.seconds.push((performance.now() - t) / 1000);
      }
      step.dispose();
      result[precision] = r;
      useConvPrecision('float32');
    }
    const show = (xs: number[], d: number) => xs.map((x) => x.toFixed(d)).join(' ');
    console.log(`${stage.configuration} batch ${stage.batchSize} patch [${stage.patchSize.join(', ')}], load ${os.loadavg()[0]!.toFixed(1)}`);
    for (const [p, r] of Object.entries(result)) console.log(`  ${p.padEnd(8)} s/step ${show(r.seconds, 2)}  losses ${show(r.losses, 4)}`);
    const diff = result.bfloat16!.losses.map((l, i) => Math.abs(l - result.float32!.losses[i]!));
    console.log(`  |loss bf16 - fp32| per step ${show(diff, 4)}`);
  }
}

export async function benchMixedPrecision(argv: string[]): Promise<void> {
  if (argv.includes('--step')) return benchStep(argv);
  const shape = (argv[0] ?? '2,20,28,20,32').split(',').map(Number) as [number, number, number, number, number];
  await initBackend({ preference: 'tfjs-node' });
  const be = tf.backend() as unknown as NodeBackend;
  const k = kernels(be);
  const x = tf.randomNormal(shape);
  const w = tf.randomNormal([3, 3, 3, shape[4], shape[4]]);
  const [xi, wi, xs, ws] = be.getInputTensorIds([x, w, tf.tensor1d(shape, 'int32'), tf.tensor1d(w.shape, 'int32')]) as [number, number, number, number];
  const reference = await be.createOutputTensor(k.run('Conv3D', k.conv(k.b.TF_FLOAT), [xi, wi])).data() as Float32Array;
  const types: [string, number][] = [['float32', k.b.TF_FLOAT], ['bfloat16', TF_BFLOAT16], ['float16', TF_HALF]];
  console.log(`Conv3D 3x3x3 ${shape[4]}->${shape[4]} on [${shape.join(', ')}], ms per call`);
  for (let round = 1; round <= 2; round++) {
    for (const [name, T] of types) {
      const to16 = (id: number) => (T === k.b.TF_FLOAT ? id : k.cast(id, k.b.TF_FLOAT, T).id);
      const [x16, w16] = [to16(xi), to16(wi)];
      const out = k.run('Conv3D', k.conv(T), [x16, w16]);
      const y = await be.createOutputTensor(T === k.b.TF_FLOAT ? out : k.cast(out.id, T, k.b.TF_FLOAT)).data() as Float32Array;
      const err = y.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i]!)), 0);
      const reps = T === TF_HALF ? 2 : 8;
      const ms = [
        k.msPerCall('Conv3D', k.conv(T), [x16, w16], reps),
        k.msPerCall('Conv3DBackpropInputV2', k.conv(T), [xs, w16, x16], reps),
        k.msPerCall('Conv3DBackpropFilterV2', k.conv(T), [x16, ws, x16], reps),
      ].map((v) => v.toFixed(1));
      let held = 'tfjs holds it';
      try { be.createOutputTensor(out); } catch (e) { held = `tfjs cannot hold it: ${(e as Error).message}`; }
      console.log(`round ${round} ${name.padEnd(8)} forward ${ms[0]}  backprop input ${ms[1]}  backprop filter ${ms[2]}  max |y - y_fp32| ${err.toExponential(2)}; ${held}`);
    }
  }
}

if (require.main === module) {
  benchMixedPrecision(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
