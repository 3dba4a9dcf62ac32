/**
 * `nnunet worker --queue cpu|gpu|all`: a worker process for a Temporal cluster (TEMPORAL_ADDRESS or --address).
 * Its training slots: `--gpus 0,1` (default: every visible GPU), one training child pinned to each, or `--slots N`
 * trainings at once on CPU. Logs are JSON lines on stdout (pretty on a terminal), each activity line with task,
 * configuration, fold, attempt.
 */
import * as os from 'node:os';
import { Option, type Command } from 'commander';
import { configFor, positiveInt, UsageError } from '../context';
import { configureLogging, rootLogger } from '../../activities/common/logger';
import type { QueueSelection } from '../../worker';
import { gpuSlotsOnCpuWarning, parseGpuList, type SlotChoice } from '../../worker/gpus';
import type { ConnectionTarget } from '../temporal/connection';
import type { Config } from '../../config';
import type { WorkerSettings } from '../../activities/contract';

interface WorkerFlags {
  queue: QueueSelection;
  address?: string;
  gpus?: string[];
  slots?: number;
  /** The old name of --slots, still accepted. */
  maxConcurrentTraining?: number;
  maxConcurrentCpu?: number;
  identity?: string;
}

function parseGpus(value: string): string[] {
  try {
    return parseGpuList(value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function parseQueue(value: string): QueueSelection {
  if (value !== 'cpu' && value !== 'gpu' && value !== 'all') throw new UsageError(`--queue ${value}: use cpu, gpu or all`);
  return value;
}

/**
 * Connects once as a client (a closed port or a wrong address fails here, in words) and restarts the steps that a
 * killed worker of this host left running, so they do not wait for their heartbeat timeout.
 */
async function restartStepsOfDeadWorkers(target: ConnectionTarget, namespace: string): Promise<void> {
  const { Client, Connection } = await import('@temporalio/client');
  const { connectionError, explainConnectionFailure, tcpProblem } = await import('../temporal/connection');
  const { restartOrphanedAttempts } = await import('../temporal/orphans');
  const tcp = await tcpProblem(target.address); // a closed port fails now, not after the SDK's 10 s deadline
  if (tcp) throw connectionError(target, new Error(tcp), true);
  let connection;
  try {
    connection = await Connection.connect({ ...target, connectTimeout: 10_000 });
  } catch (err) {
    throw await explainConnectionFailure(target, err, true);
  }
  try {
    await restartOrphanedAttempts(new Client({ connection, namespace }), (m) => rootLogger().info(m));
  } catch (err) {
    rootLogger().warn(`could not check for steps left by a killed worker: ${(err as Error).message}`);
  } finally {
    await connection.close();
  }
}

/** This worker's settings with its training slots from --gpus / --slots (a conflict is a usage error). */
function slotSettings(flags: WorkerFlags, config: Config, settingsOf: (c: Config, s: SlotChoice) => WorkerSettings): WorkerSettings {
  try {
    return settingsOf(config, { gpus: flags.gpus, slots: flags.slots ?? flags.maxConcurrentTraining });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Says so when this worker sees GPUs but would train on CPU (no GPU build): its GPU slots would share the cores. */
async function warnIfGpuSlotsTrainOnCpu(settings: WorkerSettings): Promise<void> {
  if (!settings.trainingDevices?.length) return;
  const { availableBackends } = await import('../../activities/network/backend');
  const warning = gpuSlotsOnCpuWarning(settings, availableBackends());
  if (warning) rootLogger().warn(warning);
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker that polls the nnunet-cpu and/or nnunet-gpu task queues of a Temporal cluster; runs until Ctrl-C')
    .option('--queue <queue>', 'cpu (verify, fingerprint, plan, preprocess, evaluation, ...), gpu (training) or all', parseQueue, 'all' as QueueSelection)
    .option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS, else the running `nnunet server` for this results folder)')
    .option('--gpus <ids>', 'GPUs to train on, one training at a time on each, e.g. 0,1,2,3 (default: all visible GPUs)', parseGpus)
    .option('--slots <n>', 'trainings at once on CPU, when training without GPUs (default from config worker.maxConcurrentTraining: 1)', positiveInt('--slots'))
    .addOption(new Option('--max-concurrent-training <n>', 'old name of --slots').argParser(positiveInt('--max-concurrent-training')).hideHelp())
    .option('--max-concurrent-cpu <n>', 'CPU activities at once (default from config)', positiveInt('--max-concurrent-cpu'))
    .option('--identity <name>', 'worker identity shown in Temporal (default: nnunet-<queue>-<pid>@<host>)')
    .action(async (flags: WorkerFlags, cmd: Command) => {
      const config = configFor(cmd);
      const { findRunningServer } = await import('../temporal/embedded');
      const { installTemporalLogging } = await import('../temporal/runtime-logging');
      const { runWorkerMain } = await import('../../worker/main');
      const { workerSettingsOf } = await import('../../worker');
      const settings = slotSettings(flags, config, workerSettingsOf); // a flag conflict fails before connecting
      const address = flags.address ?? config.temporal.address ?? (await findRunningServer(config))?.address;
      if (!address) {
        throw new UsageError('no Temporal server to work for: set TEMPORAL_ADDRESS (or pass --address), or start `nnunet server` first');
      }
      installTemporalLogging(configureLogging({ level: config.logging.level }), { address });
      await warnIfGpuSlotsTrainOnCpu(settings);
      const { tlsOptions, explainConnectionFailure } = await import('../temporal/connection');
      const target = { address, tls: tlsOptions(config.temporal) };
      await restartStepsOfDeadWorkers(target, config.temporal.namespace);
      try {
        await runWorkerMain({
          address,
          namespace: config.temporal.namespace,
          queue: flags.queue,
          maxCpu: flags.maxConcurrentCpu ?? config.worker.maxConcurrentCpuActivities,
          tls: target.tls,
          settings,
          identity: flags.identity ?? `nnunet-${flags.queue}-${process.pid}@${os.hostname()}`,
        });
      } catch (err) {
        if (/tonic::transport|ConnectionRefused|Failed to connect/i.test((err as Error)?.message ?? '')) throw await explainConnectionFailure(target, err, true);
        throw err;
      }
    });
}
