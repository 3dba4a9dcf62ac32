import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../activities/common/errors';

test('a folder that cannot be created is a non-retryable BadInput naming the path', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-errors-'));
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'x');
  let err: unknown;
  try {
    fs.mkdirSync(path.join(file, 'preprocessed'), { recursive: true }); // a path through a regular file: even root fails
  } catch (e) {
    err = e;
  }
  const failure = toActivityFailure(err);
  assert.ok(failure instanceof ApplicationFailure);
  assert.equal(failure.type, 'BadInput');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /a-file/);
  assert.match(failure.message, /RESULTS_FOLDER/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('transient errors stay retryable', () => {
  const err = Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
  assert.equal(toActivityFailure(err), err);
});
