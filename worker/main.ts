#!/usr/bin/env node
/**
 * Standalone worker process: `node dist/worker/main.js --address HOST:PORT --queue all|cpu|gpu`.
 * Used by `nnunet worker` on each machine of a cluster and by the crash tests (which load mocked activities
 * with --activities). SIGINT/SIGTERM shut it down gracefully (running activities get the grace time).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { NativeConnection } from '@temporalio/worker';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { WorkerSettings } from '../activities/contract';
import { loadConfig } from '../config';
import { describeSlots } from '../activities/training/slots';
import { parseGpuList } from './gpus';
import { createWorkers, workerSettingsOf, type QueueSelection } from './index';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function queue(v: string): QueueSelection {
  if (v !== 'cpu' && v !== 'gpu' && v !== 'all') throw new InvalidArgumentError('must be cpu, gpu or all');
  return v;
}

function gpuList(v: string): string[] {
  try {
    return parseGpuList(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** ` training slots: 2 (CPU)` / ` training slots: 4 (GPUs 0,1,2,3)` for the ready line; nothing without the gpu queue. */
function slotsLine(o: WorkerMainOptions): string {
  if (o.queue === 'cpu') return '';
  if (o.activities || o.maxTraining) return o.maxTraining ? ` trainings at once: ${o.maxTraining}` : '';
  return ` training slots: ${describeSlots(o.settings)}`;
}

export interface WorkerMainOptions {
  address: string;
  namespace: string;
  queue: QueueSelection;
  /** Trainings at once, overriding the settings' training slots (mocked activities in tests). */
  maxTraining?: number;
  maxCpu?: number;
  activities?: string;
  workflowBundle?: string;
  /** The same TLS settings the client uses (client/temporal/connection.ts tlsOptions). */
  tls?: TLSConfig;
  /** This machine's settings for the activities (workerSettingsOf(config)). */
  settings?: WorkerSettings;
  identity?: string;
}

/** The standalone entry's --tls-* flags; any one of them turns TLS on (a CA or server name alone is server-side TLS). */
interface TlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsServerName?: string;
}

function tlsFromFlags(f: TlsFlags): TLSConfig | undefined {
  if (!f.tlsCert && !f.tlsKey && !f.tlsCa && !f.tlsServerName) return undefined;
  if (Boolean(f.tlsCert) !== Boolean(f.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  return {
    clientCertPair: f.tlsCert && f.tlsKey ? { crt: fs.readFileSync(f.tlsCert), key: fs.readFileSync(f.tlsKey) } : undefined,
    serverRootCACertificate: f.tlsCa ? fs.readFileSync(f.tlsCa) : undefined,
    serverNameOverride: f.tlsServerName,
  };
}

export async function runWorkerMain(o: WorkerMainOptions): Promise<void> {
  const connection = await NativeConnection.connect({ address: o.address, tls: o.tls });
  const activities = o.activities ? (require(path.resolve(o.activities)) as { activities: object }).activities : undefined;
  const workers = await createWorkers({
    connection,
    namespace: o.namespace,
    queues: o.queue,
    activities,
    settings: o.settings,
    maxConcurrentTraining: o.maxTraining,
    maxConcurrentCpu: o.maxCpu,
    workflowBundle: o.workflowBundle ? { codePath: path.resolve(o.workflowBundle) } : undefined,
    identity: o.identity,
  });
  const stop = () => workers.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`worker ready: queues=${o.queue} address=${o.address} namespace=${o.namespace} pid=${process.pid}${slotsLine(o)}\n`);
  try {
    await workers.run();
  } finally {
    await connection.close();
  }
}

export function workerProgram(): Command {
  return new Command('worker')
    .description('run nnunet-ts workers that poll the Temporal task queues')
    .option('--address <host:port>', 'Temporal frontend address', process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233')
    .option('--namespace <ns>', 'Temporal namespace', process.env.TEMPORAL_NAMESPACE ?? 'default')
    .option('--queue <cpu|gpu|all>', 'task queues to poll', queue, 'all' as QueueSelection)
    .option('--gpus <ids>', 'GPUs to train on, one training each (default: all visible GPUs)', gpuList)
    .option('--slots <n>', 'trainings at once on CPU when there is no GPU (default: config worker.maxConcurrentTraining)', positiveInt)
    .option('--max-training <n>', 'trainings at once on the GPU queue, overriding the training slots (tests with mocked activities)', positiveInt)
    .option('--max-cpu <n>', 'CPU activities at once (default: cores)', positiveInt)
    .option('--tls-cert <file>', 'client certificate for mTLS')
    .option('--tls-key <file>', 'client key for mTLS')
    .option('--tls-ca <file>', 'server CA certificate')
    .option('--tls-server-name <name>', 'server name to verify (SNI override)')
    .option('--identity <name>', 'worker identity shown in Temporal')
    .option('--workflow-bundle <file>', 'prebuilt workflow bundle (skips bundling at start)')
    .option('--activities <module>', 'module exporting `activities` to register instead of the pipeline (tests)');
}

if (require.main === module) {
  const program = workerProgram();
  program.parse(process.argv);
  const opts = program.opts<WorkerMainOptions & TlsFlags & { gpus?: string[]; slots?: number }>();
  Promise.resolve().then(() => runWorkerMain({ ...opts, tls: tlsFromFlags(opts), settings: workerSettingsOf(loadConfig(), { gpus: opts.gpus, slots: opts.slots }) })).catch((err) => {
    process.stderr.write(`worker failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
