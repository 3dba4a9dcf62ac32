/** The trainer registry is an explicit list: every trainer resolves by name without importing its module first. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainerClass, trainerNames } from '../../activities/training/trainer-registry';
import { BadInputError } from '../../activities/common/errors';

test('the cascade trainer is listed, not registered as a side effect of importing cascade.ts', () => {
  // The list grew with nnU-Net's variants (trainer-variants.test.ts checks each); these three are still there.
  for (const name of ['nnUNetTrainerV2', 'nnUNetTrainerV2CascadeFullRes', 'nnUNetTrainerV2_100epochs']) assert.ok(trainerNames().includes(name), name);
  assert.equal(trainerClass('nnUNetTrainerV2CascadeFullRes').name, 'NnUNetTrainerV2CascadeFullRes');
  assert.throws(() => trainerClass('nnUNetTrainerV3'), (e: unknown) => e instanceof BadInputError && /TRAINERS in activities\/training\/trainer-registry\.ts/.test((e as Error).message));
});
