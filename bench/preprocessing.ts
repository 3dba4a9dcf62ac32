/**
 * `npm run bench -- preprocessing [--processes N] [--datasets demo,hippocampus,demo-large]`: cases per second and peak RSS of
 * the fingerprint stage (crop + dataset analysis) and of 3d_fullres preprocessing (resample, normalize, class
 * locations, .npy), each stage in a child process of its own with fresh output folders. demo-large (the demo
 * generator's ~100 x 416 x 416 cases) is opt-in: generating it takes a minute.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { plan } from '../activities/planning/activity';
import { benchDir } from './demo-plan';
import { machineLine, mb, runJob, table } from './child';
import { demoDataset, demoLargeDataset, freshPaths, hippocampusDataset, type BenchDataset } from './datasets';
import { datasetPropertiesFile } from '../activities/io/layout';

interface StageFigure { dataset: string; stage: string; cases: number; seconds: number; peakRssBytes: number }

async function benchDataset(ds: BenchDataset, numProcesses: number): Promise<StageFigure[]> {
  const work = fs.mkdtempSync(path.join(benchDir(), 'prep-'));
  try {
    const paths = freshPaths(ds.rawDir, work);
    const fp = runJob({ kind: 'fingerprint', paths, numProcesses });
    const { plansFiles } = await plan({ paths, fingerprintFile: datasetPropertiesFile(paths.preprocessedDir) });
    if (!plansFiles['3d']) throw new Error(`${ds.name}: no 3D plans`);
    const pp = runJob({ kind: 'preprocess', paths, plansFile: plansFiles['3d'], configuration: '3d_fullres', numProcesses });
    return [
      { dataset: ds.name, stage: 'fingerprint', cases: fp.numCases, seconds: fp.seconds, peakRssBytes: fp.peakRssBytes },
      { dataset: ds.name, stage: 'preprocess 3d_fullres', cases: pp.numCases, seconds: pp.seconds, peakRssBytes: pp.peakRssBytes },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export async function benchPreprocessing(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { processes: { type: 'string' }, datasets: { type: 'string', default: 'demo,hippocampus' }, json: { type: 'boolean', default: false } },
  });
  const numProcesses = values.processes ? Number(values.processes) : loadConfig().numProcesses;
  if (!Number.isInteger(numProcesses) || numProcesses < 1) throw new Error(`--processes: a positive integer, got ${values.processes}`);
  fs.mkdirSync(benchDir(), { recursive: true });
  const datasets: BenchDataset[] = [];
  for (const name of values.datasets.split(',')) {
    if (name === 'demo') datasets.push(await demoDataset());
    else if (name === 'demo-large') datasets.push(await demoLargeDataset());
    else if (name === 'hippocampus') {
      const h = await hippocampusDataset();
      if (typeof h === 'string') console.log(`Hippocampus skipped: ${h}`);
      else datasets.push(h);
    } else throw new Error(`unknown dataset '${name}' (demo, demo-large, hippocampus)`);
  }
  console.log(`bench preprocessing: ${machineLine()}; numProcesses ${numProcesses}`);
  const figures: StageFigure[] = [];
  for (const ds of datasets) {
    const f = await benchDataset(ds, numProcesses);
    for (const x of f) console.log(`  ${x.dataset} ${x.stage}: ${x.cases} cases in ${x.seconds.toFixed(1)} s, peak RSS ${mb(x.peakRssBytes)}`);
    figures.push(...f);
  }
  console.log(`\n${table([
    ['dataset', 'stage', 'cases', 'seconds', 'cases/s', 'peak RSS'],
    ...figures.map((f) => [f.dataset, f.stage, String(f.cases), f.seconds.toFixed(1), (f.cases / f.seconds).toFixed(2), mb(f.peakRssBytes)]),
  ])}\nafter: load average ${machineLine().split('load average ')[1]}`);
  if (values.json) console.log(JSON.stringify({ numProcesses, figures }));
}
