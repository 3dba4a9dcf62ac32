/**
 * One settings function: with `planning.gpuMemoryTargetGb: 4` in a --config file, `nnunet plan-and-preprocess`
 * writes the same plans files (names and content) directly as through the task workflow (--via-temporal).
 * Both runs use the same folders, one after the other, so the paths inside the plans agree too.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { resolveTemporalBinary } from '../../client/temporal/binary';
import { assertBuilt, runCliAsync } from './cli-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-same-plans-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const skip = resolveTemporalBinary() ? false : 'no temporal CLI installed (npm run setup)';

/** Every plans file of the preprocessed folder: name → content. */
function plansFiles(dir: string): Map<string, string> {
  const names = fs.readdirSync(dir).filter((f) => /_plans_(2|3)D\.json$/.test(f)).sort();
  return new Map(names.map((n) => [n, fs.readFileSync(path.join(dir, n), 'utf8')]));
}

test('plan-and-preprocess honours planning.gpuMemoryTargetGb on the direct path as the workflow does', { skip, timeout: 300_000 }, async () => {
  assertBuilt();
  const env = {
    nnUNet_raw_data_base: path.join(tmp, 'raw'), nnUNet_preprocessed: path.join(tmp, 'pre'), RESULTS_FOLDER: path.join(tmp, 'res'), NNUNET_LOG_LEVEL: 'warn',
  };
  const configFile = path.join(tmp, 'config.yaml');
  fs.writeFileSync(configFile, 'planning:\n  gpuMemoryTargetGb: 4\n');
  const { taskName } = await writeDemoDataset(env.nnUNet_raw_data_base, { taskId: 963, cases: 5, testCases: 0 });
  const pre = path.join(env.nnUNet_preprocessed, taskName);
  const cropped = path.join(env.nnUNet_raw_data_base, 'nnUNet_cropped_data', taskName);

  const direct = await runCliAsync(['--config', configFile, 'plan-and-preprocess', '-t', '963', '-p', '1', '--json'], { env });
  assert.equal(direct.code, 0, direct.stderr);
  const directPlans = plansFiles(pre);
  assert.deepEqual([...directPlans.keys()], ['nnUNetPlansv2.1_4GB_plans_3D.json', 'nnUNetPlansv2.1_plans_2D.json']);
  assert.ok(fs.existsSync(path.join(pre, 'nnUNetData_plans_v2.1_4GB_stage0')), 'the 3D data is preprocessed under the 4 GB planner\'s data identifier');

  // The workflow plans again from scratch in the same folders.
  fs.rmSync(pre, { recursive: true, force: true });
  fs.rmSync(cropped, { recursive: true, force: true });
  const viaTemporal = await runCliAsync(['--config', configFile, 'plan-and-preprocess', '-t', '963', '--via-temporal', '-p', '1', '--json'], { env, timeoutMs: 240_000 });
  assert.equal(viaTemporal.code, 0, viaTemporal.stderr);
  assert.deepEqual(plansFiles(pre), directPlans);
});
