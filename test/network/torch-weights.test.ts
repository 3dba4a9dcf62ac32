/**
 * Generic_UNet's torch layouts ↔ ours (network/torch-weights.ts): the permutations on known values, a round trip
 * over a whole network, refusals naming the parameter, and the checkpoint kind told by content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError } from '../../activities/common/errors';
import { describeUNet } from '../../activities/network/architecture';
import { writeCheckpointFile } from '../../activities/network/checkpoint-file';
import { checkpointKindOf, loadWeightsFor, stateDictFromWeights, transposeArray, weightsFromStateDict } from '../../activities/network/torch-weights';
import { writeTorchCheckpoint } from '../../activities/io/torch-checkpoint';

const arch = describeUNet({ pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]] }, { inChannels: 2, numClasses: 3, baseFeatures: 4 });
const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7919 + i * 104729));

test('transposeArray moves axes as numpy.transpose does', () => {
  // a[i, j, k] = 100i + 10j + k, shape (2, 3, 4); transpose (2, 0, 1) → b[k, i, j] = a[i, j, k]
  const a = Float32Array.from({ length: 24 }, (_, n) => 100 * Math.floor(n / 12) + 10 * (Math.floor(n / 4) % 3) + (n % 4));
  const b = transposeArray(a, [2, 3, 4], [2, 0, 1]);
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) assert.equal(b[k * 6 + i * 3 + j], 100 * i + 10 * j + k);
});

test('conv, ConvTranspose and head weights take torch layouts; a round trip gives the weights back', () => {
  const weights = arch.params.map((p, i) => random(p.shape.reduce((a, b) => a * b, 1), i));
  const sd = stateDictFromWeights(arch, weights);
  assert.deepEqual(sd.get('conv_blocks_context.0.blocks.0.conv.weight')!.shape, [4, 2, 1, 3, 3]);
  assert.deepEqual(sd.get('tu.0.weight')!.shape, [16, 8, 2, 2, 2]);
  assert.deepEqual(sd.get('seg_outputs.0.weight')!.shape, [3, 8, 1, 1, 1]);
  // ours [kz, ky, kx, in, out] at (0, 1, 2, 1, 3) = torch [out, in, kz, ky, kx] at (3, 1, 0, 1, 2)
  const ours = weights[0]!;
  const torch = sd.get('conv_blocks_context.0.blocks.0.conv.weight')!.data;
  assert.equal(torch[((3 * 2 + 1) * 1 + 0) * 9 + 1 * 3 + 2], ours[(((0 * 3 + 1) * 3 + 2) * 2 + 1) * 4 + 3]);
  const back = weightsFromStateDict(arch, sd, 'x.model');
  back.forEach((w, i) => assert.deepEqual(w, weights[i], arch.params[i]!.name));
});

test('a missing, extra or mis-shaped parameter is refused by name', () => {
  const sd = stateDictFromWeights(arch, arch.params.map((p) => new Float32Array(p.shape.reduce((a, b) => a * b, 1))));
  const missing = new Map(sd);
  missing.delete('tu.1.weight');
  assert.throws(() => weightsFromStateDict(arch, missing, 'm.model'), (e: Error) => e instanceof BadInputError && /m\.model: the state_dict lacks tu\.1\.weight/.test(e.message));
  const extra = new Map(sd).set('td.0.weight', { dtype: 'float32', shape: [1], data: new Float32Array(1) });
  assert.throws(() => weightsFromStateDict(arch, extra, 'm.model'), /has parameters Generic_UNet of these plans does not \(td\.0\.weight\)/);
  const bad = new Map(sd).set('seg_outputs.0.weight', { dtype: 'float32', shape: [3, 8, 1, 1], data: new Float32Array(24) });
  assert.throws(() => weightsFromStateDict(arch, bad, 'm.model'), /parameter seg_outputs\.0\.weight has shape \(3, 8, 1, 1\), these plans' network needs \(3, 8, 1, 1, 1\)/);
  const wrapped = new Map([...sd].map(([k, v]) => [`module.${k}`, v]));
  assert.equal(weightsFromStateDict(arch, wrapped, 'm.model').length, arch.params.length, 'DataParallel\'s module. prefix is stripped');
});

test('the checkpoint kind comes from the content, whatever the file name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-weights-'));
  try {
    const weights = arch.params.map((p, i) => random(p.shape.reduce((a, b) => a * b, 1), i));
    const torchFile = path.join(dir, 'ours_name.model');
    writeTorchCheckpoint(torchFile, { stateDict: stateDictFromWeights(arch, weights) });
    const oursFile = path.join(dir, 'model_final_checkpoint.model');
    writeCheckpointFile(oursFile, { meta: {}, weights, weightNames: arch.params.map((p) => p.name), weightShapes: arch.params.map((p) => p.shape), momentum: [] });
    const junk = path.join(dir, 'junk.model');
    fs.writeFileSync(junk, 'not a checkpoint');
    assert.equal(checkpointKindOf(torchFile), 'torch');
    assert.equal(checkpointKindOf(oursFile), 'nnunet-ts');
    assert.equal(checkpointKindOf(junk), undefined);
    for (const f of [torchFile, oursFile]) loadWeightsFor(arch, f).forEach((w, i) => assert.deepEqual(w, weights[i]));
    assert.throws(() => loadWeightsFor(arch, junk), /junk\.model: corrupt checkpoint \(neither an nnunet-ts checkpoint nor a torch\.save file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
