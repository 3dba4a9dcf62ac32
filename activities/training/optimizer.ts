/**
 * nnUNetTrainerV2's optimisation: SGD with Nesterov momentum 0.99, weight decay 3e-5 added to the
 * gradient as PyTorch's SGD does, global gradient-norm clipping at 12 (clip_grad_norm_), poly learning-rate
 * decay. The momentum buffers are plain Float32Arrays on request, so a checkpoint can hold them.
 * See docs/network.md, 'Loss and optimiser'.
 */
import * as tf from '@tensorflow/tfjs';
import { variableGradsFreeing } from '../network/backprop';

export const SGD_DEFAULTS = { learningRate: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5, clipNorm: 12 } as const;
export const POLY_EXPONENT = 0.9;

/** lr(e) = lr0 · (1 − e / maxEpochs)^0.9: set at the start of epoch e. */
export function polyLearningRate(epoch: number, maxEpochs: number, initialLr: number = SGD_DEFAULTS.learningRate, exponent = POLY_EXPONENT): number {
  return initialLr * (1 - epoch / maxEpochs) ** exponent;
}

export interface SgdOptions {
  learningRate?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** Max global L2 norm of the gradients; Infinity disables clipping. */
  clipNorm?: number;
}

/** Everything needed to resume the optimiser exactly. */
export interface SgdState {
  learningRate: number;
  momentum: number;
  steps: number;
  buffers: Float32Array[];
}

/** What the trainer needs of an optimiser (Nesterov SGD, or a variant's Adam). */
export interface TrainingOptimizer {
  learningRate: number;
  /** SGD's momentum (the momentum rescue lowers it); Adam keeps the value and ignores it, as torch.optim.Adam does. */
  momentum: number;
  readonly stepCount: number;
  step(grads: readonly (tf.Tensor | null)[]): number;
  getState(): SgdState;
  setState(state: SgdState): void;
  dispose(): void;
}

/** Optimiser buffers as plain arrays, for checkpoints. */
const buffersOf = (buffers: readonly tf.Variable[]): Float32Array[] => buffers.map((b) => Float32Array.from(b.dataSync() as Float32Array));

/** Loads checkpointed buffers, refusing (before changing anything) a state of another network or optimiser. */
function loadBuffers(buffers: readonly tf.Variable[], saved: readonly Float32Array[], misfit: string): void {
  if (saved.length !== buffers.length || saved.some((b, i) => b.length !== buffers[i]!.size)) throw new Error(misfit);
  saved.forEach((b, i) => tf.tidy(() => buffers[i]!.assign(tf.tensor(b, buffers[i]!.shape, 'float32'))));
}

export class NesterovSgd implements TrainingOptimizer {
  learningRate: number;
  /** Mutable: nnU-Net's momentum rescue lowers it to 0.95. */
  momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly clipNorm: number;
  private steps = 0;
  private readonly buffers: tf.Variable[];

  constructor(private readonly variables: readonly tf.Variable[], opts: SgdOptions = {}) {
    this.learningRate = opts.learningRate ?? SGD_DEFAULTS.learningRate;
    this.momentum = opts.momentum ?? SGD_DEFAULTS.momentum;
    this.nesterov = opts.nesterov ?? SGD_DEFAULTS.nesterov;
    this.weightDecay = opts.weightDecay ?? SGD_DEFAULTS.weightDecay;
    this.clipNorm = opts.clipNorm ?? SGD_DEFAULTS.clipNorm;
    // Zero buffers equal PyTorch's lazily cloned first buffer: 0·μ + d = d.
    this.buffers = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  }

  get stepCount(): number {
    return this.steps;
  }

  /**
   * Clips, decays and applies one update; `grads` are aligned with the variables. A null gradient (a
   * parameter the loss does not reach, e.g. the zero-weighted deep-supervision head) leaves that parameter and
   * its momentum untouched, as PyTorch skips parameters whose .grad is None. Returns the pre-clip norm.
   */
  step(grads: readonly (tf.Tensor | null)[]): number {
    if (grads.length !== this.variables.length) throw new Error(`optimizer: ${grads.length} gradients for ${this.variables.length} variables`);
    const norm = globalNorm(grads);
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
    const coef = Math.min(1, this.clipNorm / (norm + 1e-6));
    const { learningRate: lr, momentum: mu, weightDecay: wd, nesterov } = this;
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        const grad = grads[i];
        if (!grad) return;
        const g = coef < 1 ? tf.mul(grad, coef) : grad;
        const d = wd !== 0 ? tf.add(g, tf.mul(p, wd)) : g;
        const buf = tf.add(tf.mul(this.buffers[i]!, mu), d);
        const update = nesterov ? tf.add(d, tf.mul(buf, mu)) : buf;
        this.buffers[i]!.assign(buf);
        p.assign(tf.sub(p, tf.mul(update, lr)));
      });
    });
    this.steps++;
    return norm;
  }

  getState(): SgdState {
    return {
      learningRate: this.learningRate,
      momentum: this.momentum,
      steps: this.steps,
      buffers: buffersOf(this.buffers),
    };
  }

  setState(state: SgdState): void {
    loadBuffers(this.buffers, state.buffers, 'optimizer state does not fit this network (different number or sizes of parameters)');
    this.learningRate = state.learningRate;
    this.momentum = state.momentum;
    this.steps = state.steps;
  }

  dispose(): void {
    for (const b of this.buffers) b.dispose();
  }
}

export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/**
 * torch.optim.Adam(params, lr, weight_decay, amsgrad=True) as nnUNetTrainerV2_Adam creates it: L2 weight decay added
 * to the gradient (not AdamW), bias-corrected moments, the running maximum of the second moment; gradients are clipped
 * at 12 first, as nnUNetTrainerV2's run_iteration does for any optimiser. State buffers: first moments, second
 * moments, their maxima (three per parameter, in that order).
 */
export class AmsgradAdam implements TrainingOptimizer {
  learningRate: number;
  momentum: number = SGD_DEFAULTS.momentum;
  readonly weightDecay: number;
  readonly clipNorm: number;
  private steps = 0;
  private readonly moments: tf.Variable[];

  constructor(private readonly variables: readonly tf.Variable[], opts: Pick<SgdOptions, 'learningRate' | 'weightDecay' | 'clipNorm'> = {}) {
    this.learningRate = opts.learningRate ?? SGD_DEFAULTS.learningRate;
    this.weightDecay = opts.weightDecay ?? SGD_DEFAULTS.weightDecay;
    this.clipNorm = opts.clipNorm ?? SGD_DEFAULTS.clipNorm;
    this.moments = [0, 1, 2].flatMap(() => variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false))));
  }

  get stepCount(): number {
    return this.steps;
  }

  /** One update; a null gradient leaves that parameter and its moments untouched. Returns the pre-clip norm. */
  step(grads: readonly (tf.Tensor | null)[]): number {
    const n = this.variables.length;
    if (grads.length !== n) throw new Error(`optimizer: ${grads.length} gradients for ${n} variables`);
    const norm = globalNorm(grads);
    const coef = Math.min(1, this.clipNorm / (norm + 1e-6));
    const { beta1, beta2, eps } = ADAM_DEFAULTS;
    const t = this.steps + 1;
    const stepSize = this.learningRate / (1 - beta1 ** t);
    const sqrtBias2 = Math.sqrt(1 - beta2 ** t);
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        const grad = grads[i];
        if (!grad) return;
        const [m, v, vMax] = [this.moments[i]!, this.moments[n + i]!, this.moments[2 * n + i]!];
        const g0 = coef < 1 ? tf.mul(grad, coef) : grad;
        const g = this.weightDecay !== 0 ? tf.add(g0, tf.mul(p, this.weightDecay)) : g0;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        vMax.assign(tf.maximum(vMax, v));
        const denom = tf.add(tf.div(tf.sqrt(vMax), sqrtBias2), eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
      });
    });
    this.steps = t;
    return norm;
  }

  getState(): SgdState {
    return {
      learningRate: this.learningRate,
      momentum: this.momentum,
      steps: this.steps,
      buffers: buffersOf(this.moments),
    };
  }

  setState(state: SgdState): void {
    loadBuffers(this.moments, state.buffers, 'Adam state does not fit this network (a checkpoint of another optimiser or network)');
    this.learningRate = state.learningRate;
    this.momentum = state.momentum;
    this.steps = state.steps;
  }

  dispose(): void {
    for (const b of this.moments) b.dispose();
  }
}

/** Global L2 norm over all gradient tensors (equals PyTorch's norm of the per-tensor norms). */
export function globalNorm(grads: readonly (tf.Tensor | null)[]): number {
  const present = grads.filter((g): g is tf.Tensor => g !== null);
  if (present.length === 0) return 0;
  return tf.tidy(() => tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
}

/**
 * Loss value and gradients for `variables`, aligned with them; null where the loss does not depend on a
 * variable. The caller disposes the gradients.
 */
export function lossAndGradients(loss: () => tf.Scalar, variables: readonly tf.Variable[]): { loss: number; grads: (tf.Tensor | null)[] } {
  const { value, grads } = variableGradsFreeing(loss, variables);
  const lossValue = value.dataSync()[0]!;
  value.dispose();
  return { loss: lossValue, grads: variables.map((v) => grads[v.name] ?? null) };
}
