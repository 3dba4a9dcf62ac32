/**
 * Plans files on disk: <preprocessed>/<task>/<plansIdentifier>_plans_3D.json and _2D.json (nnU-Net's .pkl as
 * JSON). Written atomically and only when the content changes, so re-running planning is a no-op.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { datasetPropertiesFile } from '../io/layout';
import type { Plans } from './plans';

/** Where the fingerprint lives for `plan -t`: the preprocessed folder first, then the cropped folder (v1's place). */
export { DATASET_PROPERTIES_FILE as FINGERPRINT_FILE } from '../io/layout';

export function serializePlans(plans: Plans): string {
  return `${JSON.stringify(plans, null, 2)}\n`;
}

/** Writes the plans unless the file already holds exactly this content. Returns true when it wrote. */
export function writePlansFile(file: string, plans: Plans): boolean {
  const text = serializePlans(plans);
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return false;
  writeFileAtomic(file, text);
  return true;
}

export function readPlansFile(file: string): Plans {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BadInputError(`${file}: cannot read plans (${(err as Error).message}); run \`nnunet plan -t TASK\` to create them.`, file);
  }
  const p = json as Partial<Plans>;
  if (typeof p !== 'object' || p === null || typeof p.plans_per_stage !== 'object' || !Array.isArray(p.transpose_forward)) {
    throw new BadInputError(`${file}: not an nnunet-ts plans file (plans_per_stage / transpose_forward missing); re-run planning.`, file);
  }
  return p as Plans;
}

/** The fingerprint file for a task: the first of `candidates` dirs holding dataset_properties.json. */
export function findFingerprint(dirs: readonly string[]): string | undefined {
  return dirs.map(datasetPropertiesFile).find((f) => fs.existsSync(f));
}
