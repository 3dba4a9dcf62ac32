/**
 * `nnunet doctor`: is this machine ready? Node, the temporal binary, data folders, the cluster, the tensor backend,
 * TensorFlow and the GPUs (doctor-devices.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config';
import { resolveTemporalBinary, temporalVersion } from '../temporal/binary';
import { remoteTarget } from '../temporal/connection';
import { printJson } from '../context';

type Verdict = 'ok' | 'warn' | 'fail';
export interface Check {
  name: string;
  verdict: Verdict;
  detail: string;
}

/** package.json's engines: nifti-reader-js's dist path needs Node 20.19 (docs/data.md). */
const MIN_NODE: readonly [number, number] = [20, 19];

function checkNode(): Check {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return { name: 'node', verdict: ok ? 'ok' : 'fail', detail: `${process.version}${ok ? '' : ` (needs >= ${MIN_NODE.join('.')})`}` };
}

function checkTemporalBinary(): Check {
  try {
    const bin = resolveTemporalBinary();
    if (!bin) return { name: 'temporal CLI', verdict: 'warn', detail: 'not installed: run `npm run setup` (needed only for the embedded server)' };
    return { name: 'temporal CLI', verdict: 'ok', detail: `${temporalVersion(bin.path).split('\n')[0]} at ${bin.path} (${bin.source})` };
  } catch (err) {
    return { name: 'temporal CLI', verdict: 'fail', detail: (err as Error).message };
  }
}

/** A folder is fine when it exists and is writable, or when its nearest existing parent is writable. */
function checkFolder(name: string, dir: string): Check {
  let probe = dir;
  while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  const exists = probe === dir;
  try {
    fs.accessSync(probe, fs.constants.W_OK);
    return { name, verdict: 'ok', detail: `${dir} (${exists ? 'exists, writable' : 'will be created'})` };
  } catch {
    return { name, verdict: 'fail', detail: `${dir} (${exists ? 'not writable' : `cannot be created: ${probe} is not writable`})` };
  }
}

async function checkTemporal(config: Config): Promise<Check> {
  const target = remoteTarget(config.temporal);
  if (!target) {
    return { name: 'temporal server', verdict: 'ok', detail: `embedded (temporal server start-dev, history in ${path.join(config.paths.results, '.temporal')})` };
  }
  try {
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ ...target, connectTimeout: 5000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
    } finally {
      await connection.close();
    }
    return { name: 'temporal server', verdict: 'ok', detail: `${target.address} reachable, namespace ${config.temporal.namespace}${target.tls ? ', TLS' : ''}` };
  } catch (err) {
    return { name: 'temporal server', verdict: 'fail', detail: `${target.address}: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** The backend this machine's worker would use (Config's worker.backend; auto = the best that works here). */
async function checkBackend(preference: string | undefined): Promise<Check> {
  try {
    const { describeBackends } = await import('../../activities/network/backend');
    return { name: 'tensor backend', verdict: 'ok', detail: await describeBackends({ preference }) };
  } catch (err) {
    return { name: 'tensor backend', verdict: 'fail', detail: (err as Error).message.split('\n')[0] };
  }
}

export async function runChecks(config: Config | undefined, configError?: Error): Promise<Check[]> {
  const checks = [checkNode(), checkTemporalBinary()];
  if (!config) {
    checks.push({ name: 'config', verdict: 'fail', detail: configError?.message ?? 'not loaded' });
  } else {
    checks.push(
      { name: 'config', verdict: 'ok', detail: 'config/defaults.yaml + environment + --config' },
      checkFolder('nnUNet_raw_data_base', config.paths.rawDataBase),
      ...(config.paths.raw ? [checkFolder('nnUNet_raw', config.paths.raw)] : []),
      checkFolder('nnUNet_preprocessed', config.paths.preprocessed),
      checkFolder('RESULTS_FOLDER', config.paths.results),
      await checkTemporal(config),
    );
  }
  checks.push(await checkBackend(config?.worker.backend));
  const { checkDevices } = await import('../doctor-devices');
  checks.push(...(await checkDevices(config?.worker.backend)));
  return checks;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check this machine: Node, temporal CLI, data folders, Temporal server, tensor backend, TensorFlow, GPUs')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      // A broken config is one of the things doctor reports, not a reason to stop.
      let config: Config | undefined;
      let configError: Error | undefined;
      try {
        config = loadConfig({ configFile: cmd.optsWithGlobals<{ config?: string }>().config });
      } catch (err) {
        configError = err as Error;
      }
      const checks = await runChecks(config, configError);
      if (opts.json) printJson({ ok: checks.every((c) => c.verdict !== 'fail'), checks });
      else {
        const mark: Record<Verdict, string> = { ok: '✓', warn: '!', fail: '✗' };
        for (const c of checks) console.log(`${mark[c.verdict]} ${c.name.padEnd(22)} ${c.detail}`);
      }
      process.exitCode = checks.some((c) => c.verdict === 'fail') ? 1 : 0;
    });
}
