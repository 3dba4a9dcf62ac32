/**
 * nnU-Net v1's Generic_UNet as a functional TensorFlow.js model: explicit variables (in the order
 * and with the names of the PyTorch state_dict, see architecture.ts) and an `apply` that composes ops, so the
 * same code runs on every backend. Input and outputs are channels-last: [batch, (z,) y, x, channels].
 * See docs/network.md, 'The U-Net'.
 */
import * as tf from '@tensorflow/tfjs';
import { MT19937 } from '../common/mt19937';
import { LEAKY_SLOPE, describeUNet, summarizeUNet } from './architecture';
import type { ConvBlockSpec, ParamSpec, UNetArchitecture, UNetOptions, UNetStagePlan } from './architecture';
import { convNormLrelu, convNormLreluConsuming, pointwiseConv, upsampleTransposed } from './ops';

export interface BuildUNetOptions extends UNetOptions {
  /** Seed of the He initialisation (numpy legacy stream), so a fresh network is reproducible. */
  seed?: number;
}

export interface UNet {
  readonly architecture: UNetArchitecture;
  /** Trainable variables, in architecture.params order (the order of getWeights/setWeights). */
  readonly variables: readonly tf.Variable[];
  /** Logits per deep-supervision level, highest resolution first; only the last level without deep supervision. */
  apply(x: tf.Tensor): tf.Tensor[];
  /** Highest-resolution logits only (inference); skips the auxiliary heads. */
  predict(x: tf.Tensor): tf.Tensor;
  /** A copy of every parameter, one Float32Array per variable (for checkpoints). */
  getWeights(): Float32Array[];
  setWeights(weights: readonly Float32Array[]): void;
  /** nnU-Net's momentum rescue re-runs the He init on conv weights and zeroes conv biases (norms untouched). */
  reinitializeConvs(seed: number): void;
  summary(): string;
  dispose(): void;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Initial values of one parameter; Kaiming-normal with a = 0.01 as nnU-Net's InitWeights_He. */
function initialValues(p: ParamSpec, rng: MT19937): Float32Array {
  const out = new Float32Array(size(p.shape));
  if (p.init.kind === 'ones') out.fill(1);
  if (p.init.kind === 'he') {
    const std = Math.sqrt(2 / (1 + LEAKY_SLOPE * LEAKY_SLOPE)) / Math.sqrt(p.init.fanIn);
    for (let i = 0; i < out.length; i++) out[i] = rng.standardNormal() * std;
  }
  return out;
}

/** Every parameter but the instance norms' belongs to a conv, transposed conv or head. */
const isConvParam = (p: ParamSpec): boolean => !p.name.includes('.instnorm.');

class GenericUNet implements UNet {
  readonly variables: tf.Variable[];
  private readonly byName = new Map<string, tf.Variable>();

  constructor(readonly architecture: UNetArchitecture, seed: number) {
    const rng = new MT19937(seed);
    this.variables = architecture.params.map((p) => {
      const v = tf.tidy(() => tf.variable(tf.tensor(initialValues(p, rng), p.shape, 'float32'), true));
      this.byName.set(p.name, v);
      return v;
    });
  }

  private param(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`U-Net: no parameter ${name}`);
    return v;
  }

  private blockParams(b: ConvBlockSpec): { weight: tf.Tensor; bias: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor } {
    return {
      weight: this.param(`${b.module}.conv.weight`),
      bias: this.param(`${b.module}.conv.bias`),
      gamma: this.param(`${b.module}.instnorm.weight`),
      beta: this.param(`${b.module}.instnorm.bias`),
    };
  }

  private block(inputs: tf.Tensor[], b: ConvBlockSpec): tf.Tensor {
    return convNormLrelu(inputs, this.blockParams(b), b.stride, b.padding);
  }

  private checkInput(x: tf.Tensor): void {
    const a = this.architecture;
    if (x.rank !== a.dims + 2 || x.shape[x.rank - 1] !== a.inChannels) {
      throw new Error(`U-Net expects [batch, ${a.dims === 3 ? 'z, ' : ''}y, x, ${a.inChannels}] input, got [${x.shape.join(', ')}]`);
    }
  }

  private forward(x: tf.Tensor, allLevels: boolean): tf.Tensor[] {
    this.checkInput(x);
    const a = this.architecture;
    return tf.tidy(() => {
      const skips: tf.Tensor[] = [];
      let h = x;
      for (const stage of a.encoder) {
        for (const b of stage.blocks) h = this.block([h], b);
        skips.push(h);
      }
      skips.pop(); // the bottleneck output is not a skip
      const outputs: tf.Tensor[] = [];
      a.decoder.forEach((stage, u) => {
        const up = upsampleTransposed(h, this.param(`${stage.up.module}.weight`));
        // Generic_UNet concatenates [upsampled, skip] along the channels before the first conv.
        let inputs = [up, skips[skips.length - 1 - u]!];
        for (const b of stage.blocks) {
          h = this.block(inputs, b);
          inputs = [h];
        }
        if (allLevels || u === a.decoder.length - 1) outputs.push(pointwiseConv(h, this.param(`${stage.head.module}.weight`)));
      });
      return outputs.reverse();
    });
  }

  apply(x: tf.Tensor): tf.Tensor[] {
    return this.forward(x, this.architecture.deepSupervision);
  }

  /**
   * The highest-resolution logits with inference memory: each block consumes (disposes) its inputs as soon as
   * its conv has read them, so only the encoder skips wait for their decoder stage, and no other head runs.
   * The same ops as apply(), so the same values. Under a gradient tape (nothing frees there) it is apply()'s path.
   */
  predict(x: tf.Tensor): tf.Tensor {
    if (tf.engine().isTapeOn()) return this.forward(x, false)[0]!;
    this.checkInput(x);
    const a = this.architecture;
    const skips: tf.Tensor[] = [];
    let h = x;
    try {
      for (const stage of a.encoder) {
        // The blocks consume their input; a clone shares the data, so x (the caller's) and the skip stay.
        h = tf.clone(h);
        for (const b of stage.blocks) h = convNormLreluConsuming([h], this.blockParams(b), b.stride, b.padding);
        skips.push(h);
      }
      h = skips.pop()!; // the bottleneck output is not a skip
      a.decoder.forEach((stage, u) => {
        const low = h;
        const up = tf.tidy(() => upsampleTransposed(low, this.param(`${stage.up.module}.weight`)));
        low.dispose();
        // Generic_UNet concatenates [upsampled, skip] along the channels before the first conv.
        let inputs = [up, skips[skips.length - 1 - u]!];
        h = up; // owned now; the block below consumes it
        for (const b of stage.blocks) {
          h = convNormLreluConsuming(inputs, this.blockParams(b), b.stride, b.padding);
          inputs = [h];
        }
      });
      const last = a.decoder[a.decoder.length - 1]!;
      return tf.tidy(() => pointwiseConv(h, this.param(`${last.head.module}.weight`)));
    } finally {
      h.dispose();
      for (const s of skips) s.dispose();
    }
  }

  getWeights(): Float32Array[] {
    return this.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  }

  setWeights(weights: readonly Float32Array[]): void {
    const params = this.architecture.params;
    if (weights.length !== params.length) throw new Error(`U-Net: expected ${params.length} weight arrays, got ${weights.length}`);
    weights.forEach((w, i) => {
      if (w.length !== size(params[i]!.shape)) throw new Error(`U-Net: ${params[i]!.name} needs ${size(params[i]!.shape)} values, got ${w.length}`);
    });
    weights.forEach((w, i) => tf.tidy(() => this.variables[i]!.assign(tf.tensor(w, params[i]!.shape, 'float32'))));
  }

  reinitializeConvs(seed: number): void {
    const rng = new MT19937(seed);
    this.architecture.params.forEach((p, i) => {
      if (isConvParam(p)) tf.tidy(() => this.variables[i]!.assign(tf.tensor(initialValues(p, rng), p.shape, 'float32')));
    });
  }

  summary(): string {
    return summarizeUNet(this.architecture);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** Builds the network for a plan stage, e.g. `buildUNet(plans.plans_per_stage[1], { inChannels: 1, numClasses: 3 })`. */
export function buildUNet(stage: UNetStagePlan, opts: BuildUNetOptions): UNet {
  return new GenericUNet(describeUNet(stage, opts), opts.seed ?? 12345);
}
