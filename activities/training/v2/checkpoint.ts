/**
 * nnU-Net v2's checkpoint_{final,best,latest}.pth as nnUNetTrainer.save_checkpoint writes them (torch zip):
 * 'network_weights' (the state_dict with every key dynamic_network_architectures registers, aliases included, so
 * a strict load_state_dict accepts it), 'optimizer_state' (torch SGD state_dict: momentum buffers in torch
 * layout), 'grad_scaler_state' None, 'logging', '_best_ema', 'current_epoch' (epochs done), 'init_args',
 * 'trainer_name', 'inference_allowed_mirroring_axes'. One more key, 'nnunet_ts' (JSON text: batch-stream
 * generator states and the optimiser's step count), lets a resumed run continue the exact stream; nnunetv2
 * ignores it.
 */
import type { TensorData } from '../../io/torch-checkpoint';
import { readTorchCheckpoint, TorchTensor, writeTorchCheckpoint } from '../../io/torch-checkpoint';
import { PyFloat, tuple, type PyValue } from '../../io/pickle-values';
import type { V2NetworkDescription } from '../../network/v2/describe';
import { v2StateDictFromWeights, weightsFromV2StateDict } from '../../network/v2/torch-weights';
import type { ProducerState } from '../batch-worker';

/** nnUNetLogger.my_fantastic_logging: one entry per epoch. */
export interface TrainingLogV2 {
  mean_fg_dice: number[];
  ema_fg_dice: number[];
  dice_per_class_or_region: number[][];
  train_losses: number[];
  val_losses: number[];
  lrs: number[];
  epoch_start_timestamps: number[];
  epoch_end_timestamps: number[];
}

export const emptyLogV2 = (): TrainingLogV2 => ({
  mean_fg_dice: [], ema_fg_dice: [], dice_per_class_or_region: [], train_losses: [], val_losses: [], lrs: [], epoch_start_timestamps: [], epoch_end_timestamps: [],
});

export interface CheckpointV2 {
  weights: Float32Array[];
  /** SGD momentum buffers in our layout, one per weight. */
  momentum: Float32Array[];
  sgd: { lr: number; momentum: number; weightDecay: number; steps: number };
  log: TrainingLogV2;
  bestEma: number | null;
  /** Epochs completed. */
  currentEpoch: number;
  initArgs: { plans: unknown; configuration: string; fold: number | 'all'; dataset_json: unknown };
  trainerName: string;
  mirrorAxes: number[] | null;
  rng: { train: ProducerState; val: ProducerState };
}

/** JSON → Python values: objects as dicts, integers as int, other numbers as float. */
export function pyFromJson(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new PyFloat(v);
  if (Array.isArray(v)) return v.map(pyFromJson);
  if (typeof v === 'object') return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, pyFromJson(x)]));
  return v as PyValue;
}

const floats = (xs: readonly number[]): PyFloat[] => xs.map((x) => new PyFloat(x));

/**
 * The keys torch's state_dict has besides the canonical ones: each ConvDropoutNormReLU's conv and norm again as
 * all_modules.0 / .1 (no dropout in nnU-Net's plans), and the whole encoder again under decoder.encoder.
 */
export function withV2Aliases(canonical: ReadonlyMap<string, TensorData>): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  const add = (prefix: string) => {
    for (const [k, t] of canonical) {
      if (!k.startsWith('encoder.') && prefix) continue;
      out.set(prefix + k, t);
    }
    for (const [k, t] of canonical) {
      if (!k.startsWith('encoder.') && prefix) continue;
      const m = /^(.*)\.(conv|norm)\.(weight|bias)$/.exec(k);
      if (m) out.set(`${prefix}${m[1]}.all_modules.${m[2] === 'conv' ? 0 : 1}.${m[3]}`, t);
    }
  };
  add('');
  add('decoder.');
  return out;
}

function optimizerState(d: V2NetworkDescription, c: CheckpointV2): PyValue {
  const buffers = v2StateDictFromWeights(d, c.momentum);
  const state = new Map<PyValue, PyValue>();
  [...buffers.values()].forEach((t, i) => state.set(i, new Map([['momentum_buffer', TorchTensor.fromData(t)]])));
  const group = new Map<PyValue, PyValue>([
    ['lr', new PyFloat(c.sgd.lr)], ['momentum', new PyFloat(c.sgd.momentum)], ['dampening', 0], ['weight_decay', new PyFloat(c.sgd.weightDecay)],
    ['nesterov', true], ['maximize', false], ['foreach', null], ['differentiable', false],
    ['params', d.params.map((_, i) => i)],
  ]);
  return new Map<PyValue, PyValue>([['state', state], ['param_groups', [group]]]);
}

export function writeCheckpointV2(file: string, d: V2NetworkDescription, c: CheckpointV2): void {
  const log = new Map<PyValue, PyValue>(Object.entries(c.log).map(([k, v]) => [k, k === 'dice_per_class_or_region' ? (v as number[][]).map(floats) : floats(v as number[])]));
  writeTorchCheckpoint(file, {
    stateKey: 'network_weights',
    stateDict: withV2Aliases(v2StateDictFromWeights(d, c.weights)),
    extra: {
      optimizer_state: optimizerState(d, c),
      grad_scaler_state: null,
      logging: log,
      _best_ema: c.bestEma === null ? null : new PyFloat(c.bestEma),
      current_epoch: c.currentEpoch,
      init_args: pyFromJson(c.initArgs),
      trainer_name: c.trainerName,
      inference_allowed_mirroring_axes: c.mirrorAxes === null ? null : tuple(...c.mirrorAxes),
      nnunet_ts: JSON.stringify({ rng: c.rng, steps: c.sgd.steps }),
    },
  });
}

const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.map(Number) : []);

/** Reads a checkpoint this module wrote (resume); the network must be the one of these plans. */
export function readCheckpointV2(file: string, d: V2NetworkDescription): CheckpointV2 {
  const ck = readTorchCheckpoint(file);
  const m = ck.meta;
  const ours = typeof m.nnunet_ts === 'string' ? JSON.parse(m.nnunet_ts) as { rng: CheckpointV2['rng']; steps: number } : undefined;
  if (!ours) throw new Error(`${file}: written by nnunetv2, not by nnunet-ts; its batch streams cannot be resumed here`);
  const opt = m.optimizer_state as { state: Record<string, { momentum_buffer: TensorData }>; param_groups: Array<Record<string, unknown>> };
  const buffers = new Map<string, TensorData>(d.params.map((p, i) => [p.name, opt.state[String(i)]!.momentum_buffer]));
  const group = opt.param_groups[0]!;
  const rawLog = m.logging as Record<string, unknown>;
  const log = emptyLogV2();
  for (const k of Object.keys(log) as (keyof TrainingLogV2)[]) {
    (log[k] as unknown) = k === 'dice_per_class_or_region' ? ((rawLog[k] as unknown[]) ?? []).map(numbers) : numbers(rawLog[k]);
  }
  const axes = m.inference_allowed_mirroring_axes;
  return {
    weights: weightsFromV2StateDict(d, ck.stateDict, file),
    momentum: weightsFromV2StateDict(d, buffers, file),
    sgd: { lr: Number(group.lr), momentum: Number(group.momentum), weightDecay: Number(group.weight_decay), steps: ours.steps },
    log,
    bestEma: m._best_ema === null || m._best_ema === undefined ? null : Number(m._best_ema),
    currentEpoch: Number(m.current_epoch),
    initArgs: m.init_args as CheckpointV2['initArgs'],
    trainerName: String(m.trainer_name),
    mirrorAxes: Array.isArray(axes) ? axes.map(Number) : null,
    rng: ours.rng,
  };
}

/** The epochs a checkpoint had completed (current_epoch), without loading its weights. */
export function checkpointEpochV2(file: string): number {
  return Number(readTorchCheckpoint(file).meta.current_epoch);
}
