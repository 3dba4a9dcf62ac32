/** nnUNet_train without -c: a fold starts over once per token; the same token again (a retry) keeps what exists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startFoldOver } from '../../activities/training/train-fold';

test('startFoldOver removes the checkpoints and the validation once per token', () => {
  const foldDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-start-over-'));
  try {
    const write = () => {
      for (const f of ['model_final_checkpoint.model', 'model_latest.model', 'model_best.model']) fs.writeFileSync(path.join(foldDir, f), 'x');
      fs.mkdirSync(path.join(foldDir, 'validation_raw'), { recursive: true });
      fs.writeFileSync(path.join(foldDir, 'validation_raw', 'summary.json'), '{}');
      fs.writeFileSync(path.join(foldDir, 'debug.json'), '{}');
    };
    write();
    const lines: string[] = [];
    assert.equal(startFoldOver(foldDir, 'run-1', (l) => lines.push(l)), true);
    assert.deepEqual(fs.readdirSync(foldDir).sort(), ['debug.json', 'start_over.json'], 'checkpoints and validation gone, the rest kept');
    assert.match(lines[0]!, /started over \(no -c\)/);

    write(); // the retry of the same call trained meanwhile
    assert.equal(startFoldOver(foldDir, 'run-1'), false, 'same token: continue');
    assert.ok(fs.existsSync(path.join(foldDir, 'model_latest.model')));

    assert.equal(startFoldOver(foldDir, 'run-2'), true, 'a new call: start over again');
    assert.ok(!fs.existsSync(path.join(foldDir, 'model_latest.model')));
  } finally {
    fs.rmSync(foldDir, { recursive: true, force: true });
  }
});
