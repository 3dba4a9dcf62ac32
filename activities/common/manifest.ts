/**
 * Idempotent stages: a stage records `manifest.json` (a hash of its inputs, its output paths and its small JSON
 * result) after its outputs are complete. Run again with the same inputs and outputs present, it returns the
 * recorded result without recomputing; changed inputs or a missing output recompute. The manifest is written
 * last and atomically, so a crash mid-stage leaves no manifest and the stage runs again.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { writeJsonAtomic } from './atomic';

export const MANIFEST_VERSION = 1;

export interface StageManifest<O> {
  version: typeof MANIFEST_VERSION;
  stage: string;
  inputHash: string;
  /** Files or folders that must exist for the stage to count as complete. */
  outputs: string[];
  result: O;
  completedAt: string;
}

/** JSON with object keys sorted, so equal inputs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v);
}

function hashFileInto(hash: ReturnType<typeof createHash>, file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

/** sha256 of the canonical JSON of `inputs` and the contents of `inputFiles` (e.g. the plans file). */
export function hashInputs(inputs: unknown, inputFiles: string[] = []): string {
  const hash = createHash('sha256').update(canonicalJson(inputs));
  for (const f of inputFiles) {
    hash.update(`\0${f}\0`);
    hashFileInto(hash, f);
  }
  return hash.digest('hex');
}

export function readManifest<O>(manifestFile: string): StageManifest<O> | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as StageManifest<O>;
    return m.version === MANIFEST_VERSION && typeof m.inputHash === 'string' && Array.isArray(m.outputs) ? m : undefined;
  } catch {
    return undefined; // missing or unreadable: the stage runs
  }
}

export interface RunOnceOptions<O> {
  /** Where the manifest lives, e.g. `<preprocessedDir>/nnUNetData_plans_v2.1_stage1/manifest.json`. */
  manifestFile: string;
  stage: string;
  /** Everything that determines the outputs (small JSON: options, plans identifiers, versions). */
  inputs: unknown;
  /** Files whose contents determine the outputs (hashed with the inputs). */
  inputFiles?: string[];
  /** The outputs a result consists of; all must exist for a skip. */
  outputs: (result: O) => string[];
  compute: () => Promise<O>;
}

/** The stage's recorded result when it already completed for these inputs; else computes and records it. */
export async function runOnce<O>(opts: RunOnceOptions<O>): Promise<{ result: O; skipped: boolean }> {
  const inputHash = hashInputs(opts.inputs, opts.inputFiles);
  const recorded = readManifest<O>(opts.manifestFile);
  if (recorded && recorded.inputHash === inputHash && recorded.stage === opts.stage && recorded.outputs.every((p) => fs.existsSync(p))) {
    return { result: recorded.result, skipped: true };
  }
  // Inputs changed or outputs are gone: the old manifest no longer describes the folder.
  fs.rmSync(opts.manifestFile, { force: true });
  const result = await opts.compute();
  const manifest: StageManifest<O> = {
    version: MANIFEST_VERSION,
    stage: opts.stage,
    inputHash,
    outputs: opts.outputs(result),
    result,
    completedAt: new Date().toISOString(),
  };
  const missing = manifest.outputs.filter((p) => !fs.existsSync(p));
  if (missing.length) throw new Error(`${opts.stage}: declared outputs missing after compute: ${missing.join(', ')}`);
  writeJsonAtomic(opts.manifestFile, manifest);
  return { result, skipped: false };
}
