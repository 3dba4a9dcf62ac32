/**
 * `npm run bench -- vs-nnunet [--parts train,infer,preprocess,gemm,learn] [--quick]`: our pipeline against
 * nnU-Net v1's own code on the same machine in the same run, on MSD Hippocampus planned and preprocessed by
 * us and handed to nnU-Net unchanged (bench/nnunet-tree.ts). Prints a ratio table (> 1: we are faster) with
 * the load average before and after, and writes it as JSON. Figures: docs/benchmarks.md, "vs nnU-Net".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Configuration } from '../activities/contract';
import { runPreprocess } from '../activities/preprocessing/preprocess';
import { hippocampusDataset, plannedDataset } from './datasets';
import { benchDir } from './demo-plan';
import { machineLine } from './child';
import { writeNnunetTree } from './nnunet-tree';
import { findNnunetPython } from './nnunet-reference';
import { PARTS, type PartContext, type Row } from './vs-nnunet-parts';
import { ratioTable } from './vs-nnunet-table';
import { defaultBatchWorkers } from '../activities/training/trainer';

const HELP = `usage: npm run bench -- vs-nnunet [--parts ${Object.keys(PARTS).join(',')}] [--quick] [--threads N]
    [--processes N] [--workers N] [--configurations 3d_fullres,2d] [--json FILE]
  train       seconds per training iteration (data loading + augmentation as each trainer does it) and the network
              step alone, peak RSS; Hippocampus 3d_fullres and 2d, same plans, arrays and fold-0 split
  infer       seconds per case, sliding window + Gaussian, TTA off and on, same network on the same preprocessed cases
  preprocess  fingerprint (crop + analysis) and planning + preprocessing (3d_fullres and 2d), same process count
  gemm        fp32 GEMM peak (our backend's matMul, numpy, torch) and the U-Net step's achieved GFLOP/s
  learn       not run by default (long): fold 0 of 3d_fullres, 10 epochs x 25 iterations in both, seeds 1-3,
              validation mean Dice (no TTA) mean ± sd; --quick: 1 epoch x 2 iterations, one seed
--threads: tensor threads (both); --processes: preprocessing processes (both); --workers: augmentation workers
(our batch threads, nnU-Net's nnUNet_n_proc_DA; default ours: cores - 1, 1 to 4; nnU-Net's own default is 12).
Default parts: train,infer,preprocess,gemm. --quick: a few iterations and cases (checks that the bench works).
nnU-Net v1 runs from a python3 with torch + nnunet 1.7 (NNUNET_V1_PYTHON); without one its columns are skipped.`;

interface Options { parts: string[]; quick: boolean; threads: number; processes: number; workers: number; configurations: Configuration[]; json?: string; help: boolean }

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      parts: { type: 'string', default: 'train,infer,preprocess,gemm' },
      quick: { type: 'boolean', default: false },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      processes: { type: 'string', default: String(os.availableParallelism()) },
      workers: { type: 'string', default: String(defaultBatchWorkers()) },
      configurations: { type: 'string', default: '3d_fullres,2d' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const parts = values.parts.split(',').filter(Boolean);
  for (const p of parts) if (!PARTS[p]) throw new Error(`vs-nnunet: unknown part '${p}' (${Object.keys(PARTS).join(', ')})`);
  const configurations = values.configurations.split(',') as Configuration[];
  for (const c of configurations) if (c !== '3d_fullres' && c !== '2d') throw new Error(`vs-nnunet: configuration '${c}': only 3d_fullres and 2d are planned for Hippocampus`);
  return {
    parts, quick: values.quick, threads: Number(values.threads), processes: Number(values.processes), workers: Number(values.workers), configurations,
    json: values.json, help: values.help,
  };
}

/** Our plans and preprocessed arrays of Hippocampus (cached), and nnU-Net's copy of them. */
async function prepare(opts: Options): Promise<Omit<PartContext, 'nnunet' | 'quick' | 'threads' | 'processes' | 'workers'> | string> {
  const ds = await hippocampusDataset();
  if (typeof ds === 'string') return ds;
  const { paths, plansFiles } = await plannedDataset(ds);
  const ours: Partial<Record<Configuration, string>> = {};
  for (const c of opts.configurations) {
    ours[c] = c === '2d' ? plansFiles['2d'] : plansFiles['3d'];
    if (!ours[c]) return `our planner made no ${c} plans for ${ds.name}`;
    await runPreprocess(paths, ours[c]!, c, { numProcesses: 1 }); // cases already done are kept
  }
  const work = path.join(benchDir(), 'vs-nnunet');
  const stages = writeNnunetTree(paths, ours, { preprocessedDir: path.join(work, 'nnUNet_preprocessed', paths.taskName) });
  return { dataset: ds, paths, stages, work };
}

async function runParts(ctx: PartContext, parts: readonly string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const part of parts) {
    const partRows = await PARTS[part]!(ctx, rows);
    for (const r of partRows) console.log(`  ${r.part} ${r.measure}: ours ${r.ours ?? '-'} / nnU-Net ${r.nnunet ?? '-'}${r.note ? ` (${r.note})` : ''}`);
    rows.push(...partRows);
  }
  return rows;
}

const loadLine = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');

/** The table's JSON: rows plus what they were measured on (machine, load before/after, options, nnU-Net's versions). */
function writeReport(file: string, report: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`JSON: ${file}`);
}

export async function benchVsNnunet(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  if (opts.help) { console.log(HELP); return; }
  const loadBefore = os.loadavg();
  console.log(`bench vs-nnunet: ${machineLine()}; parts ${opts.parts.join(',')}${opts.quick ? ' (quick sizes)' : ''}`);
  const prepared = await prepare(opts);
  if (typeof prepared === 'string') { console.log(`vs-nnunet skipped: ${prepared}`); return; }
  const py = findNnunetPython();
  if (typeof py === 'string') console.log(`nnU-Net v1 columns skipped: ${py}`);
  else console.log(`nnU-Net v1 reference: ${py.python} (${Object.entries(py.versions).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  const nnunet = typeof py === 'string' ? undefined : py;
  const rows = await runParts({ ...prepared, nnunet, quick: opts.quick, threads: opts.threads, processes: opts.processes, workers: opts.workers }, opts.parts);
  const loadAfter = os.loadavg();
  console.log(`\n${ratioTable(rows)}\nload average before ${loadLine(loadBefore)}, after ${loadLine(loadAfter)}`);
  writeReport(opts.json ?? path.join(prepared.work, `vs-nnunet-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), {
    date: new Date().toISOString(), machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model.trim(), loadBefore, loadAfter },
    options: opts, nnunet: nnunet ?? { skipped: py }, rows,
  });
}
