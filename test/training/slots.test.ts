import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as os from 'node:os';
import * as fs from 'node:fs';
import { describeSlot, describeSlots, slotEnvironment, trainingSlotCount, TrainingSlots } from '../../activities/training/slots';
import { runTrainingFoldInChild } from '../../activities/training/train-process';

test('one slot per GPU, else the CPU slots, else one', () => {
  assert.equal(trainingSlotCount({ trainingDevices: ['0', '1', '3'] }), 3);
  assert.equal(trainingSlotCount({ trainingDevices: [], trainingSlots: 2 }), 2);
  assert.equal(trainingSlotCount({}), 1);
  assert.equal(describeSlots({ trainingDevices: ['2', '3'] }), '2 (GPUs 2,3)');
  assert.equal(describeSlots({ trainingSlots: 2 }), '2 (CPU)');
});

test('concurrent trainings take distinct slots; a third waits for one to be given back', async () => {
  const slots = new TrainingSlots({ trainingDevices: ['0', '1'] });
  const a = await slots.acquire();
  const b = await slots.acquire();
  assert.deepEqual([a.device, b.device], ['0', '1']);
  assert.equal(describeSlot(b), 'slot 2/2 (GPU 1)');
  let third: string | undefined;
  const waiting = slots.acquire().then((s) => (third = s.device));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, undefined, 'no free slot yet');
  slots.release(a);
  await waiting;
  assert.equal(third, '0', 'the slot given back');
});

test('a training cancelled while it waits for a slot stops waiting and takes none', async () => {
  const slots = new TrainingSlots({ trainingSlots: 1 });
  const held = await slots.acquire();
  const cancel = new AbortController();
  const waiting = slots.acquire(cancel.signal);
  cancel.abort(new Error('cancelled by the workflow'));
  await assert.rejects(waiting, /cancelled by the workflow/);
  slots.release(held);
  assert.equal(slots.available, 1, 'the slot given back is free, not handed to the cancelled waiter');
});

test('run gives the slot back when the work fails', async () => {
  const slots = new TrainingSlots({ trainingSlots: 1 });
  await assert.rejects(slots.run(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(slots.available, 1);
});

test('a GPU slot pins its child to its GPU; CPU slots share the cores unless the operator set threads', () => {
  assert.deepEqual(slotEnvironment({ index: 1, count: 4, device: '3' }, {}), { NNUNET_TRAINING_SLOT: '2', CUDA_VISIBLE_DEVICES: '3' });
  assert.deepEqual(slotEnvironment({ index: 0, count: 1 }, {}, 8), { NNUNET_TRAINING_SLOT: '1' });
  assert.deepEqual(slotEnvironment({ index: 0, count: 2 }, {}, 8), { NNUNET_TRAINING_SLOT: '1', TF_NUM_INTRAOP_THREADS: '4', OMP_NUM_THREADS: '4' });
  assert.deepEqual(slotEnvironment({ index: 3, count: 4 }, { OMP_NUM_THREADS: '2' }, 2), { NNUNET_TRAINING_SLOT: '4', TF_NUM_INTRAOP_THREADS: '1' });
  assert.throws(() => new TrainingSlots({ trainingDevices: ['1', '1'] }), /listed twice/);
});

test('the training child runs with its slot environment (it reports CUDA_VISIBLE_DEVICES first thing)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-slot-env-'));
  try {
    const lines: string[] = [];
    const input = {
      paths: { taskName: 'Task999_None', rawDir: dir, croppedDir: dir, preprocessedDir: dir, resultsDir: dir },
      plansFile: path.join(dir, 'missing_plans.pkl'), configuration: '2d', fold: 0, trainer: 'nnUNetTrainerV2', epochs: 1, iterationsPerEpoch: 1,
    } as unknown as Parameters<typeof runTrainingFoldInChild>[0];
    await assert.rejects(runTrainingFoldInChild(input, { env: { CUDA_VISIBLE_DEVICES: '7' }, onLog: (l) => lines.push(l) }));
    assert.ok(lines.some((l) => /CUDA_VISIBLE_DEVICES=7$/.test(l)), lines.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
