/**
 * nnU-Net v2's plan_experiments for one dataset: the named planner on the dataset's dataset_fingerprint.json, the
 * plans written to <preprocessed>/<Dataset>/<plans name>.json and, as v2's planner does, the raw dataset.json copied
 * beside them (v2's trainer and predictor read it from there). nnUNetv2_plan_experiment and the workflow's plan
 * step both call this.
 */
import * as fs from 'node:fs';
import type { TaskPaths } from '../../contract';
import { writeFileAtomic } from '../../common/atomic';
import { BadInputError } from '../../common/errors';
import { pythonJsonText } from '../../io/convert-v2';
import { datasetFingerprintFile, datasetJsonFile, plansV2File } from '../../io/layout';
import { planExperimentV2, type PlanOptionsV2, type PlansV2 } from './experiment';
import { readDatasetJsonV2, readFingerprintV2 } from './inputs';

export interface PlannedDatasetV2 { plansFile: string; plansName: string; plans: PlansV2 }

/** Plans `paths`' dataset with `opts.planner`; the fingerprint must exist (nnUNetv2_extract_fingerprint). Idempotent. */
export function planDatasetV2(paths: Pick<TaskPaths, 'taskName' | 'rawDir' | 'preprocessedDir'>, opts: Omit<PlanOptionsV2, 'datasetName'>): PlannedDatasetV2 {
  const fingerprintFile = datasetFingerprintFile(paths.preprocessedDir);
  if (!fs.existsSync(fingerprintFile)) throw new BadInputError(`${fingerprintFile}: no dataset fingerprint; extract it first (nnUNetv2_extract_fingerprint -d ${paths.taskName})`, fingerprintFile);
  const plans = planExperimentV2(readFingerprintV2(fingerprintFile), readDatasetJsonV2(datasetJsonFile(paths.rawDir)), { ...opts, datasetName: paths.taskName });
  const plansName = String(plans.plans_name);
  const plansFile = plansV2File(paths.preprocessedDir, plansName);
  writeFileAtomic(plansFile, pythonJsonText(plans));
  writeFileAtomic(datasetJsonFile(paths.preprocessedDir), fs.readFileSync(datasetJsonFile(paths.rawDir)));
  return { plansFile, plansName, plans };
}
