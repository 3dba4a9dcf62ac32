/**
 * torch.save files in both formats (committed fixtures written by torch 1.13: float32, float16, float64, a
 * transposed and a sliced tensor, a 0-d tensor, a module state_dict with its _metadata attribute, nnU-Net's
 * checkpoint keys), the bounds checks, and our zip writer read back by our reader and by torch.load when
 * /usr/bin/python3 has torch (skipped otherwise).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { unzipSync, zipSync } from 'fflate';
import { BadInputError } from '../../activities/common/errors';
import {
  encodeTorchCheckpoint, nnunetCheckpointExtra, readTorchCheckpoint, TorchTensor, writeTorchCheckpoint, type TensorData,
} from '../../activities/io/torch-checkpoint';
import { tmpDir } from './helpers';
import { FIXTURES, pythonLacks, runPython } from './python-check';

interface Expected { shape: number[]; dtype: string; values: number[] }
const expected = (): Record<string, Expected> => JSON.parse(fs.readFileSync(path.join(FIXTURES, 'checkpoint_expected.json'), 'utf8'));

for (const format of ['zip', 'legacy']) {
  test(`reads a ${format}-format nnU-Net checkpoint: every tensor as float32 in C order, the rest as plain values`, () => {
    const ckpt = readTorchCheckpoint(path.join(FIXTURES, `checkpoint_${format}.model`));
    const want = expected();
    assert.deepEqual([...ckpt.stateDict.keys()], Object.keys(want), 'state_dict order kept');
    for (const [name, t] of ckpt.stateDict) {
      const w = want[name]!;
      assert.equal(t.dtype, w.dtype, name);
      assert.deepEqual(t.shape, w.shape, name);
      assert.ok(t.data instanceof Float32Array);
      assert.deepEqual([...t.data], w.values.map(Math.fround), name);
    }
    assert.deepEqual(ckpt.stateDict.get('transposed')!.shape, [4, 3]);
    assert.deepEqual([...ckpt.stateDict.get('sliced')!.data], [5, 7, 9, 10, 12, 14]);
    const { meta } = ckpt;
    assert.equal(meta.epoch, 3);
    assert.deepEqual(meta.plot_stuff, [[0.5, 0.25], [0.6, 0.3], [], [0.1, 0.2]]);
    assert.deepEqual(meta.best_stuff, [2, 0.25, 0.2]);
    assert.equal(meta.lr_scheduler_state_dict, null);
    assert.equal(meta.amp_grad_scaler.scale, 65536);
    assert.equal(meta.optimizer_state_dict.param_groups[0].momentum, 0.99);
    const buffer = meta.optimizer_state_dict.state['0'].momentum_buffer;
    assert.ok(buffer instanceof TorchTensor);
    assert.deepEqual([buffer.shape, [...buffer.data]], [[2, 2], [1, 1, 1, 1]]);
  });
}

test('reads the checkpoint nnU-Net v1\'s own trainer saved (nnUNetTrainerV2.save_checkpoint, 3d_fullres, Generic_UNet)', () => {
  const ckpt = readTorchCheckpoint(path.join(FIXTURES, 'nnunet_trainer.model'));
  const want = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'nnunet_trainer_expected.json'), 'utf8')) as Record<string, { shape: number[]; sum: number; first: number }>;
  assert.deepEqual([...ckpt.stateDict.keys()], Object.keys(want));
  assert.ok(ckpt.stateDict.has('conv_blocks_context.0.blocks.0.conv.weight') && ckpt.stateDict.has('seg_outputs.0.weight'));
  for (const [name, t] of ckpt.stateDict) {
    const w = want[name]!;
    assert.deepEqual(t.shape, w.shape, name);
    assert.equal(t.data[0], Math.fround(w.first), name);
    assert.ok(Math.abs(t.data.reduce((a, b) => a + b, 0) - w.sum) < 1e-4 * Math.max(1, Math.abs(w.sum)), name);
  }
  assert.deepEqual(Object.keys(ckpt.meta), ['epoch', 'optimizer_state_dict', 'lr_scheduler_state_dict', 'plot_stuff', 'best_stuff']);
  assert.deepEqual(ckpt.meta.plot_stuff, [[], [], [], []]);
  assert.deepEqual(Object.keys(ckpt.meta.optimizer_state_dict), ['state', 'param_groups']);
});

const stateDict = (): Map<string, TensorData> => new Map([
  ['conv.weight', { dtype: 'float32', shape: [2, 1, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }],
  ['conv.bias', { dtype: 'float32', shape: [2], data: Float32Array.from([-1, 0.25]) }],
  ['scalar', { dtype: 'float32', shape: [], data: Float32Array.from([7]) }],
]);

test('the writer round-trips through our reader', () => {
  const dir = tmpDir('nnunet-torch-');
  const file = path.join(dir, 'model_final_checkpoint.model');
  writeTorchCheckpoint(file, { stateDict: stateDict(), extra: { epoch: 12, plot_stuff: [[0.5], [0.4]] } });
  const back = readTorchCheckpoint(file);
  assert.deepEqual(back.stateDict, stateDict());
  assert.deepEqual(back.meta, { epoch: 12, plot_stuff: [[0.5], [0.4]] });
  assert.throws(() => encodeTorchCheckpoint({ stateDict: new Map([['x', { dtype: 'float16', shape: [1], data: new Float32Array(1) }]]) }), /only float32/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('bounds: a storage smaller than its tensor promises, a missing storage, a non-checkpoint are BadInput naming the file', () => {
  const dir = tmpDir('nnunet-torch-');
  const members = unzipSync(encodeTorchCheckpoint({ stateDict: stateDict() }));
  const short = path.join(dir, 'short.model');
  fs.writeFileSync(short, zipSync({ ...members, 'archive/data/0': members['archive/data/0']!.subarray(0, 12) }, { level: 0 }));
  assert.throws(() => readTorchCheckpoint(short), (e: Error) => e instanceof BadInputError && e.message.startsWith(`${short}: not a readable torch checkpoint`) && /needs element 5 of storage 0, which holds 3/.test(e.message));
  const missing = path.join(dir, 'missing.model');
  const { ['archive/data/1']: _dropped, ...rest } = members;
  fs.writeFileSync(missing, zipSync(rest, { level: 0 }));
  assert.throws(() => readTorchCheckpoint(missing), (e: Error) => e instanceof BadInputError && /storage archive\/data\/1 missing/.test(e.message));
  const legacy = fs.readFileSync(path.join(FIXTURES, 'checkpoint_legacy.model'));
  const truncated = path.join(dir, 'truncated.model');
  fs.writeFileSync(truncated, legacy.subarray(0, legacy.length - 10));
  assert.throws(() => readTorchCheckpoint(truncated), (e: Error) => e instanceof BadInputError && e.message.includes(truncated) && /past the end of the file/.test(e.message));
  const text = path.join(dir, 'notes.model');
  fs.writeFileSync(text, 'not a checkpoint');
  assert.throws(() => readTorchCheckpoint(text), (e: Error) => e instanceof BadInputError && e.message.includes(text));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('torch 1.13 loads what we write, tensors and other keys equal', (t) => {
  const why = pythonLacks(['torch']);
  if (why) return t.skip(why);
  const dir = tmpDir('nnunet-torch-');
  const file = path.join(dir, 'ours.model');
  const extra = nnunetCheckpointExtra({ epoch: 2, trainLosses: [0.5, 0.25], valLosses: [0.6, 0.3], evalMetrics: [0.1, 0.2] });
  writeTorchCheckpoint(file, { stateDict: stateDict(), extra: { ...extra, best_stuff: [3, 0.5, 0.25] } });
  const out = runPython(`
import sys, collections, torch
c = torch.load(sys.argv[1])
sd = c['state_dict']
assert isinstance(sd, collections.OrderedDict), type(sd)
assert list(sd) == ['conv.weight', 'conv.bias', 'scalar'], list(sd)
assert sd['conv.weight'].dtype == torch.float32 and sd['conv.weight'].is_contiguous()
assert sd['conv.weight'].tolist() == [[[1, 2, 3]], [[4, 5, 6.5]]], sd['conv.weight'].tolist()
assert sd['conv.bias'].tolist() == [-1, 0.25] and sd['scalar'].shape == () and sd['scalar'].item() == 7
assert c['epoch'] == 2 and c['best_stuff'] == [3, 0.5, 0.25]
# what nnU-Net v1's load_checkpoint_ram unpacks
tr, val, val_tr, metrics = c['plot_stuff']
assert tr == [0.5, 0.25] and val == [0.6, 0.3] and val_tr == [] and metrics == [0.1, 0.2] and len(tr) == c['epoch']
assert c['optimizer_state_dict'] is None and c['lr_scheduler_state_dict'] is None
print('OK')
`, [file]);
  assert.equal(out.trim(), 'OK');
  fs.rmSync(dir, { recursive: true, force: true });
});
