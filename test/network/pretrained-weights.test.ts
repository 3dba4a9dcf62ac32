/**
 * nnUNet_train -pretrained_weights (network/pretrained-weights.ts): nnU-Net's load_pretrained_weights rules on a
 * torch .model (with DataParallel's "module." prefix) and on our checkpoint format: a full match copies every
 * parameter, other classes keep their own heads, other conv_blocks are refused with nnU-Net's message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError } from '../../activities/common/errors';
import { writeTorchCheckpoint } from '../../activities/io/torch-checkpoint';
import { describeUNet, type UNetArchitecture } from '../../activities/network/architecture';
import { writeCheckpointFile } from '../../activities/network/checkpoint-file';
import { applyPretrainedWeights } from '../../activities/network/pretrained-weights';
import { stateDictFromWeights } from '../../activities/network/torch-weights';

const stage = { pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]] };
const archFor = (numClasses: number, baseFeatures = 4): UNetArchitecture => describeUNet(stage, { inChannels: 2, numClasses, baseFeatures });
const filled = (arch: UNetArchitecture, seed: number): Float32Array[] =>
  arch.params.map((p, i) => Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, j) => Math.sin(seed * 7919 + i * 104729 + j)));

function withFiles(run: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-pretrained-'));
  try { run(dir); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

function writeBoth(dir: string, arch: UNetArchitecture, weights: Float32Array[]): string[] {
  const torchFile = path.join(dir, 'model_final_checkpoint.model');
  const module = new Map([...stateDictFromWeights(arch, weights)].map(([k, v]) => [`module.${k}`, v]));
  writeTorchCheckpoint(torchFile, { stateDict: module });
  const oursFile = path.join(dir, 'ours.model');
  writeCheckpointFile(oursFile, { meta: {}, weights, weightNames: arch.params.map((p) => p.name), weightShapes: arch.params.map((p) => p.shape), momentum: [] });
  return [torchFile, oursFile];
}

test('same network: every parameter comes from the file (torch .model with "module." keys, and ours)', () => {
  const arch = archFor(3);
  const pretrained = filled(arch, 1);
  const fresh = filled(arch, 2);
  withFiles((dir) => {
    for (const file of writeBoth(dir, arch, pretrained)) {
      const { weights, loaded } = applyPretrainedWeights(arch, fresh, file);
      assert.equal(loaded.length, arch.params.length, file);
      weights.forEach((w, i) => assert.deepEqual(w, pretrained[i], `${path.basename(file)} ${arch.params[i]!.name}`));
    }
  });
});

test('another number of classes: encoder, decoder and upsampling transfer; the segmentation heads keep their init', () => {
  const source = archFor(5);
  const target = archFor(3);
  const pretrained = filled(source, 1);
  const fresh = filled(target, 2);
  withFiles((dir) => {
    for (const file of writeBoth(dir, source, pretrained)) {
      const { weights, loaded } = applyPretrainedWeights(target, fresh, file);
      target.params.forEach((p, i) => {
        const head = p.name.startsWith('seg_outputs.');
        assert.equal(loaded.includes(p.name), !head, p.name);
        assert.deepEqual(weights[i], head ? fresh[i] : pretrained[source.params.findIndex((s) => s.name === p.name)], p.name);
      });
    }
  });
});

test('other conv_blocks (another base width) or not a checkpoint: a BadInputError naming the file, nothing loaded', () => {
  const source = archFor(3, 8);
  const target = archFor(3, 4);
  withFiles((dir) => {
    for (const file of writeBoth(dir, source, filled(source, 1))) {
      assert.throws(() => applyPretrainedWeights(target, filled(target, 2), file), (e: unknown) => e instanceof BadInputError
        && e.message.includes(file) && /Pretrained weights are not compatible with the current network architecture \(conv_blocks_context\.0\.blocks\.0\.conv\.weight/.test(e.message));
    }
    const junk = path.join(dir, 'junk.model');
    fs.writeFileSync(junk, 'not a checkpoint');
    assert.throws(() => applyPretrainedWeights(target, filled(target, 2), junk), (e: unknown) => e instanceof BadInputError && /junk\.model: not a checkpoint/.test(e.message));
    assert.throws(() => applyPretrainedWeights(target, filled(target, 2), path.join(dir, 'missing.model')), /missing\.model: no such pretrained weights file/);
  });
});
