/**
 * Hands our planned and preprocessed task to nnU-Net v1 unchanged: a preprocessed task folder in nnU-Net's own
 * files (plans .pkl from our plans, per case .npz/.npy/.pkl from our arrays and properties, splits_final.pkl
 * from our split), so nnU-Net's trainer trains exactly our plan on exactly our arrays (docs/interop.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Configuration, TaskPaths } from '../activities/contract';
import { readNpySync } from '../activities/io/npy';
import { writeNpz } from '../activities/io/npz';
import { readCaseProperties } from '../activities/io/properties';
import { writeCasePropertiesPkl, writeDatasetPropertiesPkl, writeSplitsPkl } from '../activities/io/nnunet-pickles';
import {
  datasetPropertiesFile, datasetPropertiesPklFile, gtSegmentationsFolder, nnunetCaseFiles, nnunetPlansPklFile, plansIdentifierOfLegacyFile,
  preprocessedCaseFiles, splitsFile, splitsPklFile,
} from '../activities/io/layout';
import { dataFolderOf, loadConfiguration } from '../activities/planning/configuration';
import { writePlansPkl } from '../activities/planning/plans-pkl';
import { loadOrCreateSplits } from '../activities/training/splits';

export interface NnunetStage {
  configuration: Configuration;
  /** nnU-Net's plans file (.pkl) and the trainer's dataset_directory. */
  plansFile: string;
  datasetDir: string;
  stage: number;
  /** Our own plans file and stage folder of the same configuration. */
  ourPlansFile: string;
  ourDataDir: string;
  caseIds: string[];
}

const caseIdsOf = (dataDir: string): string[] => fs.readdirSync(dataDir).filter((f) => f.endsWith('.npy')).map((f) => f.slice(0, -4)).sort();

/** Copies one stage folder: the array as .npy (what nnU-Net's loader reads) and .npz (how it lists cases), properties as .pkl. */
function writeStageFolder(ourDir: string, theirDir: string, caseIds: readonly string[]): void {
  fs.mkdirSync(theirDir, { recursive: true });
  for (const id of caseIds) {
    const ours = preprocessedCaseFiles(ourDir, id);
    const theirs = nnunetCaseFiles(theirDir, id);
    if (fs.existsSync(theirs.pkl)) continue;
    fs.copyFileSync(ours.data, theirs.npy);
    writeNpz(theirs.npz, { data: readNpySync(ours.data) }, false);
    writeCasePropertiesPkl(theirs.pkl, readCaseProperties(ours.properties));
  }
}

/**
 * Writes nnU-Net's preprocessed task folder `theirs.preprocessedDir` for the given configurations of our task
 * `ours`; returns what nnU-Net's trainer needs per configuration. Cases already written are kept.
 */
export function writeNnunetTree(ours: TaskPaths, plansFiles: Partial<Record<Configuration, string>>, theirs: Pick<TaskPaths, 'preprocessedDir'>): NnunetStage[] {
  fs.mkdirSync(theirs.preprocessedDir, { recursive: true });
  writeDatasetPropertiesPkl(datasetPropertiesPklFile(theirs.preprocessedDir), JSON.parse(fs.readFileSync(datasetPropertiesFile(ours.preprocessedDir), 'utf8')));
  const out: NnunetStage[] = [];
  for (const [configuration, ourPlansFile] of Object.entries(plansFiles) as [Configuration, string][]) {
    const rc = loadConfiguration(ourPlansFile, configuration, { preprocessedDir: ours.preprocessedDir });
    const ourDataDir = dataFolderOf(rc);
    const caseIds = caseIdsOf(ourDataDir);
    const id = plansIdentifierOfLegacyFile(ourPlansFile);
    if (!id) throw new Error(`${ourPlansFile}: not named <plans id>_plans_3D/2D.json`);
    const plansFile = nnunetPlansPklFile(theirs.preprocessedDir, id, configuration === '2d' ? '2d' : '3d');
    writePlansPkl(plansFile, rc.plans);
    writeStageFolder(ourDataDir, path.join(theirs.preprocessedDir, path.basename(ourDataDir)), caseIds);
    out.push({ configuration, plansFile, datasetDir: theirs.preprocessedDir, stage: rc.stageIndex, ourPlansFile, ourDataDir, caseIds });
  }
  // nnU-Net's validate() reads the reference labels from here.
  if (!fs.existsSync(gtSegmentationsFolder(theirs.preprocessedDir))) fs.symlinkSync(gtSegmentationsFolder(ours.preprocessedDir), gtSegmentationsFolder(theirs.preprocessedDir));
  // Our split (splits_final.json, made here when missing) is nnU-Net's split: the same fold trains the same cases.
  const splits = loadOrCreateSplits(splitsFile(ours), out[0]?.caseIds ?? []);
  writeSplitsPkl(splitsPklFile(theirs), splits);
  return out;
}
