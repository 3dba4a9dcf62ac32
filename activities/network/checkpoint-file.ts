/**
 * The checkpoint file format (docs/training.md, "Checkpoint format"), one self-checking file:
 *
 *   "NNUTSCK1" (8 bytes) | header length H (uint32 LE) | header: UTF-8 JSON, space-padded so the payload
 *   starts 4-byte aligned | payload: float32 LE arrays back to back | SHA-256 of every byte before it (32 bytes)
 *
 * The header holds the metadata and the table of arrays {name, group, shape, offset (in floats)}; `group` is
 * `weights` (network parameters, in the PyTorch state_dict order of architecture.ts) or `momentum` (SGD buffers,
 * same order). A torn, truncated or altered file fails the checksum and is never loaded. What the metadata holds
 * (epoch, optimiser, RNG states, histories) is the trainer's business (training/checkpoint.ts); the format lives
 * here, below inference and training, so inference reads weights without importing the trainer.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';

export const CHECKPOINT_MAGIC = 'NNUTSCK1';
export const CHECKPOINT_VERSION = 1;

const SHA_BYTES = 32;

export interface ArrayEntry {
  name: string;
  group: 'weights' | 'momentum';
  shape: number[];
  /** Offset into the payload, in float32 elements. */
  offset: number;
}

/** A checkpoint's content: metadata of type M (stored in the header) and the float32 arrays. */
export interface CheckpointFile<M extends object> {
  meta: M;
  weights: Float32Array[];
  weightNames: string[];
  weightShapes: number[][];
  momentum: Float32Array[];
}

type Header<M extends object> = M & {
  format: 'nnunet-ts-checkpoint';
  version: number;
  savedAt: string;
  arrays: ArrayEntry[];
};

/** Thrown for a file that must not be loaded (bad magic, truncated, checksum mismatch, unknown version). */
export class CorruptCheckpointError extends Error {
  constructor(readonly file: string, why: string) {
    super(`${file}: corrupt checkpoint (${why})`);
  }
}

/** The bytes of a checkpoint. */
export function encodeCheckpoint<M extends object>(ckpt: CheckpointFile<M>): Buffer {
  if (ckpt.weights.length !== ckpt.weightNames.length || ckpt.weights.length !== ckpt.weightShapes.length) {
    throw new Error('checkpoint: weights, names and shapes differ in length');
  }
  const arrays: ArrayEntry[] = [];
  let offset = 0;
  // Optimiser state may hold several buffers per parameter (Adam: three), each named after its parameter.
  const add = (group: ArrayEntry['group'], a: Float32Array, i: number) => {
    const k = i % ckpt.weightNames.length;
    arrays.push({ name: ckpt.weightNames[k]!, group, shape: ckpt.weightShapes[k]!, offset });
    offset += a.length;
  };
  ckpt.weights.forEach((w, i) => add('weights', w, i));
  ckpt.momentum.forEach((m, i) => add('momentum', m, i));
  const header: Header<M> = { format: 'nnunet-ts-checkpoint', version: CHECKPOINT_VERSION, savedAt: new Date().toISOString(), ...ckpt.meta, arrays };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((8 + 4 + json.length) % 4)) % 4;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(12);
  prefix.write(CHECKPOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 8);
  const payload = Buffer.alloc(offset * 4);
  const view = new Float32Array(payload.buffer, payload.byteOffset, offset);
  [...ckpt.weights, ...ckpt.momentum].forEach((a, i) => view.set(a, arrays[i]!.offset));
  const body = Buffer.concat([prefix, json, payload]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Parses and verifies checkpoint bytes; throws CorruptCheckpointError when anything is off. */
export function decodeCheckpoint<M extends object>(bytes: Buffer, file = 'checkpoint'): CheckpointFile<M> {
  if (bytes.length < 12 + SHA_BYTES || bytes.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) throw new CorruptCheckpointError(file, 'not a nnunet-ts checkpoint');
  const body = bytes.subarray(0, bytes.length - SHA_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(bytes.subarray(bytes.length - SHA_BYTES))) throw new CorruptCheckpointError(file, 'SHA-256 mismatch: torn, truncated or altered');
  const headerLength = body.readUInt32LE(8);
  let header: Header<M>;
  try {
    header = JSON.parse(body.toString('utf8', 12, 12 + headerLength)) as Header<M>;
  } catch {
    throw new CorruptCheckpointError(file, 'unreadable header');
  }
  if (header.format !== 'nnunet-ts-checkpoint' || header.version !== CHECKPOINT_VERSION) throw new CorruptCheckpointError(file, `unknown format ${header.format} v${header.version}`);
  const start = 12 + headerLength;
  const floats = (body.length - start) / 4;
  const read = (e: ArrayEntry): Float32Array => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset + n > floats) throw new CorruptCheckpointError(file, `array ${e.name} runs past the payload`);
    const out = new Float32Array(n);
    Buffer.from(out.buffer).set(body.subarray(start + e.offset * 4, start + (e.offset + n) * 4));
    return out;
  };
  const weights = header.arrays.filter((a) => a.group === 'weights');
  const momentum = header.arrays.filter((a) => a.group === 'momentum');
  const { format: _f, version: _v, savedAt: _s, arrays: _a, ...meta } = header;
  return {
    meta: meta as unknown as M,
    weights: weights.map(read),
    weightNames: weights.map((a) => a.name),
    weightShapes: weights.map((a) => a.shape),
    momentum: momentum.map(read),
  };
}

/** Atomic write (temporary file + fsync + rename): a crash leaves the previous file. */
export function writeCheckpointFile<M extends object>(file: string, ckpt: CheckpointFile<M>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, encodeCheckpoint(ckpt));
}

/** Reads and verifies a checkpoint; throws CorruptCheckpointError when anything is off. */
export function readCheckpointFile<M extends object>(file: string): CheckpointFile<M> {
  return decodeCheckpoint<M>(fs.readFileSync(file), file);
}

/** The network weights of a checkpoint (for inference): arrays in architecture order, with names and shapes. */
export function loadCheckpointWeights(file: string): { weights: Float32Array[]; names: string[]; shapes: number[][]; meta: Record<string, unknown> } {
  const c = readCheckpointFile<Record<string, unknown>>(file);
  return { weights: c.weights, names: c.weightNames, shapes: c.weightShapes, meta: c.meta };
}
