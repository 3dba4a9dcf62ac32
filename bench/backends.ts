/**
 * `npm run bench -- backends`: a training step per workload on each installed tensor backend, and the same
 * step in PyTorch (CPU) when a python3 with torch is found. Each pair runs in its own process so peak RSS is
 * its own. Prints ms/step, it/s, peak RSS, and throughput relative to PyTorch and to the pure-JS backend.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { availableBackends, isBackendId } from '../activities/network/backend';
import type { StepResult } from './step-runner';
import { benchPlansFile, demoBenchPlans } from './demo-plan';
import { WORKLOADS, findWorkload } from './workloads';

interface Options {
  workloads: string[];
  backends: string[];
  threads: number;
  seconds: number;
  maxSteps: number;
  json: boolean;
}

type Outcome = StepResult | { backend: string; workload: string; error: string };

const CHILD_TIMEOUT_MS = 10 * 60 * 1000;
/** One pure-JS U-Net iteration takes 5-20 minutes of a shared 2-core machine. */
const HEAVY_CHILD_TIMEOUT_MS = 60 * 60 * 1000;

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'bench', 'torch_reference.py')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      workloads: { type: 'string', default: WORKLOADS.map((w) => w.name).join(',') },
      backends: { type: 'string', default: [...availableBackends(), 'pytorch'].join(',') },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      seconds: { type: 'string', default: '3' },
      'max-steps': { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    },
  });
  const backends = values.backends.split(',');
  for (const b of backends) if (b !== 'pytorch' && !isBackendId(b)) throw new Error(`unknown backend '${b}'`);
  return {
    workloads: values.workloads.split(','), backends, threads: Number(values.threads),
    seconds: Number(values.seconds), maxSteps: Number(values['max-steps']), json: values.json,
  };
}

/** A python3 that can import torch: $NNUNET_TORCH_PYTHON, python3 on PATH, or Debian's /usr/bin/python3. */
function findTorchPython(): string | undefined {
  const candidates = [process.env.NNUNET_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 }).status === 0);
}

function runChild(cmd: string, args: string[], backend: string, workload: string, timeoutMs = CHILD_TIMEOUT_MS): Outcome {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 });
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status === 0 && line) return JSON.parse(line) as StepResult;
  const why = r.error?.message ?? (r.stderr?.trim().split('\n').pop() || `exit code ${r.status}`);
  return { backend, workload, error: why };
}

function measure(opts: Options, backend: string, workload: string, torchPython: string | undefined): Outcome {
  // Pure JS needs minutes for one U-Net iteration: that one (first, un-warmed) step is its figure.
  const maxSteps = backend === 'cpu' && findWorkload(workload)?.heavy ? 0 : opts.maxSteps;
  const common = [workload, String(opts.threads), String(opts.seconds), String(maxSteps)];
  if (backend === 'pytorch') {
    if (!torchPython) return { backend, workload, error: 'no python3 with torch (Debian: apt-get install python3-torch)' };
    return runChild(torchPython, [path.join(repoRoot(), 'bench', 'torch_reference.py'), ...common, benchPlansFile()], backend, workload);
  }
  return runChild(process.execPath, [path.join(__dirname, 'step-runner.js'), backend, ...common], backend, workload, maxSteps === 0 ? HEAVY_CHILD_TIMEOUT_MS : CHILD_TIMEOUT_MS);
}

function ok(o: Outcome | undefined): o is StepResult {
  return !!o && !('error' in o);
}

function ratio(num: number | undefined, den: number | undefined): string {
  return num && den ? `${(num / den).toFixed(num / den < 10 ? 2 : 0)}x` : '-';
}

function table(outcomes: Outcome[], workloads: string[]): string {
  const head = ['workload', 'backend', 'ms/step', 'it/s', 'peak RSS MB', 'vs PyTorch', 'vs pure JS', 'steps'];
  const rows = [head];
  for (const w of workloads) {
    const of = (b: string): StepResult | undefined => outcomes.find((o): o is StepResult => ok(o) && o.workload === w && o.backend === b);
    const torchMs = of('pytorch')?.msPerStep;
    const cpuMs = of('cpu')?.msPerStep;
    for (const o of outcomes.filter((x) => x.workload === w)) {
      if (!ok(o)) { rows.push([w, o.backend, `unavailable: ${o.error}`]); continue; }
      // Throughput ratios: ours/theirs in it/s, i.e. their ms over our ms.
      rows.push([w, o.backend, o.msPerStep.toFixed(1), (1000 / o.msPerStep).toFixed(2), o.peakRssMB.toFixed(0),
        o.backend === 'pytorch' ? '1x' : ratio(torchMs, o.msPerStep), ratio(cpuMs, o.msPerStep), String(o.steps)]);
    }
  }
  const widths = head.map((_, i) => Math.max(...rows.filter((r) => r.length === head.length).map((r) => (r[i] ?? '').length)));
  return rows.map((r) => (r.length === head.length ? r.map((c, i) => c.padEnd(widths[i])).join('  ') : r.join('  '))).join('\n');
}

export async function benchBackends(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  const torchPython = opts.backends.includes('pytorch') ? findTorchPython() : undefined;
  console.log(`bench backends: ${opts.threads} threads, >= ${opts.seconds}s (at least 1 step, at most ${opts.maxSteps}) per pair after 1 warm-up step`);
  for (const w of opts.workloads) if (!findWorkload(w)) throw new Error(`unknown workload '${w}' (${WORKLOADS.map((x) => x.name).join(', ')})`);
  if (opts.workloads.some((w) => findWorkload(w)?.needsPlans)) console.log(`U-Net plans: ${(await demoBenchPlans()).source}`);
  const outcomes: Outcome[] = [];
  for (const w of opts.workloads) {
    for (const b of opts.backends) {
      const o = measure(opts, b, w, torchPython);
      console.log(ok(o) ? `  ${w} ${b}: ${o.msPerStep.toFixed(1)} ms/step (${o.detail})` : `  ${w} ${b}: ${o.error}`);
      outcomes.push(o);
    }
  }
  console.log(`\n${table(outcomes, opts.workloads)}`);
  if (opts.json) console.log(JSON.stringify(outcomes));
}
