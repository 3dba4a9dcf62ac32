/**
 * consolidate_folds: the folds' validation_raw predictions pooled into one folder and evaluated
 * there (cv_niftis_raw, or an ensemble's ensembled_raw). Such a folder is derived data: it is rebuilt whenever
 * the fold predictions it came from change (a fold retrained or re-validated with other settings), which a
 * digest of their names, sizes and mtimes tells. The digest lives beside the folder (.<folder>.sources.sha256),
 * so the folder holds what nnU-Net's does and nothing else.
 * See docs/evaluation.md, 'Postprocessing'.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Fold } from '../contract';
import { writeDirAtomic, writeFileAtomic } from '../common/atomic';
import { listLabelFiles } from '../evaluation/label-io';
import { readFolderScore, scoreStagedFolder, type FolderScore, type Scoring } from '../evaluation/scoring';
import { cvRawFolder, foldFolder, sourcesDigestFile, summaryFile, validationFolder } from '../io/layout';

const digestFile = sourcesDigestFile;

/** The validation_raw (or `name`) folders of the given models and folds, in a fixed order. */
export function validationFolders(models: readonly string[], folds: readonly Fold[], name?: string): string[] {
  return models.flatMap((m) => folds.filter((f) => f !== 'all').map((f) => validationFolder(foldFolder(m, f), name)));
}

/** Digest of every file (name, size, mtime) in the folders; a missing folder counts as such. */
export function sourcesDigest(folders: readonly string[]): string {
  const h = createHash('sha256');
  for (const dir of folders) {
    h.update(`${dir}\n`);
    if (!fs.existsSync(dir)) { h.update('missing\n'); continue; }
    for (const f of fs.readdirSync(dir).sort()) {
      const st = fs.statSync(path.join(dir, f));
      if (st.isFile()) h.update(`${f}:${st.size}:${st.mtimeMs}\n`);
    }
  }
  return h.digest('hex');
}

/**
 * Whether `outDir` holds a summary.json to use for these sources: built from exactly them (digest), or kept
 * because some source folder is gone (nothing to rebuild it from; e.g. fold folders cleaned up after
 * consolidation, or a folder written before digests were kept).
 */
export function isUpToDate(outDir: string, sources: readonly string[]): boolean {
  if (!fs.existsSync(summaryFile(outDir))) return false;
  if (sources.some((d) => !fs.existsSync(d))) return true;
  const recorded = digestFile(outDir);
  return fs.existsSync(recorded) && fs.readFileSync(recorded, 'utf8').trim() === sourcesDigest(sources);
}

/**
 * Builds `outDir` atomically from `sources` with `stage` (which writes the predictions into the temporary
 * folder), evaluates it against `gtDir` (v1's summary.json, or v2's for regions and the ignore label) and records
 * the sources' digest; returns its score. Up-to-date folders are returned as they are.
 */
export async function buildEvaluatedFolder(outDir: string, sources: readonly string[], gtDir: string, scoring: Scoring, stage: (tmp: string) => Promise<void>): Promise<FolderScore> {
  if (isUpToDate(outDir, sources)) return readFolderScore(scoring, outDir);
  const digest = sourcesDigest(sources);
  await writeDirAtomic(outDir, async (tmp) => {
    await stage(tmp);
    await scoreStagedFolder(scoring, tmp, outDir, gtDir);
  });
  // After the folder: a crash in between leaves an old or no digest, which only means one more rebuild.
  writeFileAtomic(digestFile(outDir), `${digest}\n`);
  return readFolderScore(scoring, outDir);
}

/** cv_niftis_raw of one model: every fold's validation_raw segmentations copied, then evaluated. */
export function consolidateFolds(model: string, folds: readonly Fold[], gtDir: string, scoring: Scoring, validationName?: string): Promise<FolderScore> {
  const sources = validationFolders([model], folds, validationName);
  return buildEvaluatedFolder(cvRawFolder(model), sources, gtDir, scoring, async (tmp) => {
    for (const dir of sources) for (const f of listLabelFiles(dir)) fs.copyFileSync(path.join(dir, f), path.join(tmp, f));
  });
}
