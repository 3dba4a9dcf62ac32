/**
 * nnU-Net v2's PlainConvUNet and ResidualEncoderUNet as functional TensorFlow.js models: explicit variables
 * (named and ordered as the PyTorch state_dict, see describe.ts) and a forward pass composed of the U-Net ops,
 * so it runs (and differentiates) on every backend. Input and outputs are channels-last: [batch, (z,) y, x, C].
 * See docs/nnunet-v2.md, 'Networks'.
 */
import * as tf from '@tensorflow/tfjs';
import { MT19937 } from '../../common/mt19937';
import { LEAKY_SLOPE } from '../architecture';
import type { V2NetworkSpec } from './arch-kwargs';
import { describeV2Network, type ConvNormSpec, type ResidualBlockSpec, type V2NetworkDescription, type V2NetworkOptions, type V2ParamSpec } from './describe';
import { averagePool, convNormBlock, nonlinearity, segmentationLayer, upsample, type Activation } from './ops';

export interface V2UNet {
  readonly description: V2NetworkDescription;
  /** Trainable variables, in description.params order. */
  readonly variables: readonly tf.Variable[];
  /** Logits per decoder stage, highest resolution first, with deep supervision; else only the highest. */
  apply(x: tf.Tensor): tf.Tensor[];
  /** Highest-resolution logits only (inference). */
  predict(x: tf.Tensor): tf.Tensor;
  getWeights(): Float32Array[];
  setWeights(weights: readonly Float32Array[]): void;
  summary(): string;
  dispose(): void;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Kaiming-normal with a = 0.01 (InitWeights_He) or a constant. */
function initialValues(p: V2ParamSpec, rng: MT19937): Float32Array {
  const out = new Float32Array(size(p.shape));
  if (p.init.kind === 'ones') out.fill(1);
  if (p.init.kind === 'he') {
    const std = Math.sqrt(2 / (1 + LEAKY_SLOPE * LEAKY_SLOPE)) / Math.sqrt(p.init.fanIn);
    for (let i = 0; i < out.length; i++) out[i] = rng.standardNormal() * std;
  }
  return out;
}

class DynamicUNet implements V2UNet {
  readonly variables: tf.Variable[];
  private readonly byName = new Map<string, tf.Variable>();
  private readonly act: Activation;

  constructor(readonly description: V2NetworkDescription, seed: number) {
    const rng = new MT19937(seed);
    this.act = { eps: description.spec.normEps, slope: description.spec.nonlinSlope };
    this.variables = description.params.map((p) => {
      const v = tf.tidy(() => tf.variable(tf.tensor(initialValues(p, rng), p.shape, 'float32'), true));
      this.byName.set(p.name, v);
      return v;
    });
  }

  private param(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`v2 U-Net: no parameter ${name}`);
    return v;
  }

  private block(inputs: tf.Tensor[], c: ConvNormSpec): tf.Tensor {
    const p = {
      weight: this.param(`${c.module}.conv.weight`),
      bias: c.bias ? this.param(`${c.module}.conv.bias`) : undefined,
      gamma: this.param(`${c.module}.norm.weight`),
      beta: this.param(`${c.module}.norm.bias`),
    };
    return convNormBlock(inputs, p, c, this.act);
  }

  /** BasicBlockD: nonlin(conv2(conv1(x)) + skip(x)). */
  private residual(x: tf.Tensor, b: ResidualBlockSpec): tf.Tensor {
    let skip = b.pool ? averagePool(x, b.pool) : x;
    if (b.projection) skip = this.block([skip], b.projection);
    const out = this.block([this.block([x], b.conv1)], b.conv2);
    return nonlinearity(tf.add(out, skip), this.act);
  }

  private checkInput(x: tf.Tensor): void {
    const d = this.description;
    if (x.rank !== d.spec.dims + 2 || x.shape[x.rank - 1] !== d.inChannels) {
      throw new Error(`v2 U-Net expects [batch, ${d.spec.dims === 3 ? 'z, ' : ''}y, x, ${d.inChannels}] input, got [${x.shape.join(', ')}]`);
    }
  }

  private encode(x: tf.Tensor): tf.Tensor[] {
    const d = this.description;
    let h = d.stem ? this.block([x], d.stem) : x;
    return d.encoder.map((stage) => {
      if (stage.kind === 'plain') for (const c of stage.convs) h = this.block([h], c);
      else for (const b of stage.blocks) h = this.residual(h, b);
      return h;
    });
  }

  private forward(x: tf.Tensor, allLevels: boolean): tf.Tensor[] {
    this.checkInput(x);
    const d = this.description;
    return tf.tidy(() => {
      const skips = this.encode(x);
      let h = skips[skips.length - 1]!;
      const outputs: tf.Tensor[] = [];
      d.decoder.forEach((stage, u) => {
        const up = upsample(h, this.param(`${stage.up.module}.weight`), stage.up.bias ? this.param(`${stage.up.module}.bias`) : undefined);
        // UNetDecoder concatenates (upsampled, skip) along the channels
        let inputs = [up, skips[skips.length - 2 - u]!];
        for (const c of stage.convs) {
          h = this.block(inputs, c);
          inputs = [h];
        }
        if (allLevels || u === d.decoder.length - 1) outputs.push(segmentationLayer(h, this.param(`${stage.seg.module}.weight`), this.param(`${stage.seg.module}.bias`)));
      });
      return outputs.reverse();
    });
  }

  apply(x: tf.Tensor): tf.Tensor[] {
    return this.forward(x, this.description.deepSupervision);
  }

  /**
   * The highest-resolution logits with inference memory: the same ops as apply() (so the same values), but each
   * conv or residual block runs in its own tidy and its input is freed once consumed, so only the encoder's
   * skips wait for their decoder stage. Under a gradient tape (nothing may be freed there) it is apply()'s path.
   */
  predict(x: tf.Tensor): tf.Tensor {
    if (tf.engine().isTapeOn()) return this.forward(x, false)[0]!;
    this.checkInput(x);
    const d = this.description;
    const owned = new Set<tf.Tensor>();
    /** f(h) in its own tidy; h freed unless the caller keeps it (x, or a skip). */
    const step = (h: tf.Tensor, f: (t: tf.Tensor) => tf.Tensor): tf.Tensor => {
      const next = tf.tidy(() => f(h));
      if (owned.delete(h)) h.dispose();
      owned.add(next);
      return next;
    };
    const skips: tf.Tensor[] = [];
    try {
      let h = d.stem ? step(x, (t) => this.block([t], d.stem!)) : x;
      for (const stage of d.encoder) {
        if (stage.kind === 'plain') for (const c of stage.convs) h = step(h, (t) => this.block([t], c));
        else for (const b of stage.blocks) h = step(h, (t) => this.residual(t, b));
        owned.delete(h); // a skip now, freed by its decoder stage
        skips.push(h);
      }
      h = skips.pop()!;
      owned.add(h);
      d.decoder.forEach((stage, u) => {
        h = step(h, (t) => upsample(t, this.param(`${stage.up.module}.weight`), stage.up.bias ? this.param(`${stage.up.module}.bias`) : undefined));
        const skip = skips.pop()!;
        owned.add(skip);
        const [first, ...rest] = stage.convs;
        const merged = tf.tidy(() => this.block([h, skip], first!));
        for (const t of [h, skip]) { owned.delete(t); t.dispose(); }
        owned.add(merged);
        h = merged;
        for (const c of rest) h = step(h, (t) => this.block([t], c));
        if (u === d.decoder.length - 1) h = step(h, (t) => segmentationLayer(t, this.param(`${stage.seg.module}.weight`), this.param(`${stage.seg.module}.bias`)));
      });
      owned.delete(h);
      return h;
    } finally {
      for (const t of [...owned, ...skips]) t.dispose();
    }
  }

  getWeights(): Float32Array[] {
    return this.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  }

  setWeights(weights: readonly Float32Array[]): void {
    const params = this.description.params;
    if (weights.length !== params.length) throw new Error(`v2 U-Net: expected ${params.length} weight arrays, got ${weights.length}`);
    weights.forEach((w, i) => {
      if (w.length !== size(params[i]!.shape)) throw new Error(`v2 U-Net: ${params[i]!.name} needs ${size(params[i]!.shape)} values, got ${w.length}`);
    });
    weights.forEach((w, i) => tf.tidy(() => this.variables[i]!.assign(tf.tensor(w, params[i]!.shape, 'float32'))));
  }

  summary(): string {
    return summarizeV2Network(this.description);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** A short readable description: class, stages with features, kernels, strides and blocks, parameter count. */
export function summarizeV2Network(d: V2NetworkDescription): string {
  const s = d.spec;
  const x = (v: readonly number[]): string => v.join('x');
  const rows = s.featuresPerStage.map((f, i) => `  stage ${i}: ${f} features, kernel ${x(s.kernelSizes[i]!)}, stride ${x(s.strides[i]!)}, ${s.perStage[i]} ${s.networkClass === 'PlainConvUNet' ? 'conv(s)' : 'residual block(s)'}`);
  return [
    `${s.networkClass} (nnU-Net v2), ${s.dims}D, ${d.inChannels} input channel(s), ${d.numClasses} output channel(s), ${d.deepSupervision ? 'deep supervision' : 'single output'}`,
    ...rows,
    `  decoder convs per stage: ${s.convPerStageDecoder.join(', ')}`,
    `parameters: ${d.numParameters}`,
  ].join('\n');
}

/** Builds the network for a spec, e.g. `buildV2UNet(readV2Architecture(config.architecture, file), { inChannels: 1, numClasses: 3 })`. */
export function buildV2UNet(spec: V2NetworkSpec, opts: V2NetworkOptions & { seed?: number }): V2UNet {
  return new DynamicUNet(describeV2Network(spec, opts), opts.seed ?? 12345);
}
