/**
 * `nnunet worker --queue cpu|gpu|all`: a worker process for a Temporal cluster (TEMPORAL_ADDRESS or --address).
 * Logs are JSON lines on stdout (pretty on a terminal), each activity line with task, configuration, fold, attempt.
 */
import * as os from 'node:os';
import type { Command } from 'commander';
import { configFor, positiveInt, UsageError } from '../context';
import { configureLogging, rootLogger } from '../../activities/common/logger';
import type { QueueSelection } from '../../worker';
import type { ConnectionTarget } from '../temporal/connection';

interface WorkerFlags {
  queue: QueueSelection;
  address?: string;
  maxConcurrentTraining?: number;
  maxConcurrentCpu?: number;
  identity?: string;
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

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker that polls the nnunet-cpu and/or nnunet-gpu task queues of a Temporal cluster; runs until Ctrl-C')
    .option('--queue <queue>', 'cpu (verify, fingerprint, plan, preprocess, evaluation, ...), gpu (training) or all', parseQueue, 'all' as QueueSelection)
    .option('--address <host:port>', 'Temporal frontend (default: TEMPORAL_ADDRESS, else the running `nnunet server` for this results folder)')
    .option('--max-concurrent-training <n>', 'trainings at once on this worker (default from config: 1, one per GPU)', positiveInt('--max-concurrent-training'))
    .option('--max-concurrent-cpu <n>', 'CPU activities at once (default from config)', positiveInt('--max-concurrent-cpu'))
    .option('--identity <name>', 'worker identity shown in Temporal (default: nnunet-<queue>-<pid>@<host>)')
    .action(async (flags: WorkerFlags, cmd: Command) => {
      const config = configFor(cmd);
      const { findRunningServer } = await import('../temporal/embedded');
      const { installTemporalLogging } = await import('../temporal/runtime-logging');
      const { runWorkerMain } = await import('../../worker/main');
      const { workerSettingsOf } = await import('../../worker');
      const address = flags.address ?? config.temporal.address ?? (await findRunningServer(config))?.address;
      if (!address) {
        throw new UsageError('no Temporal server to work for: set TEMPORAL_ADDRESS (or pass --address), or start `nnunet server` first');
      }
      installTemporalLogging(configureLogging({ level: config.logging.level }), { address });
      const { tlsOptions, explainConnectionFailure } = await import('../temporal/connection');
      const target = { address, tls: tlsOptions(config.temporal) };
      await restartStepsOfDeadWorkers(target, config.temporal.namespace);
      try {
        await runWorkerMain({
          address,
          namespace: config.temporal.namespace,
          queue: flags.queue,
          maxTraining: flags.maxConcurrentTraining ?? config.worker.maxConcurrentTraining,
          maxCpu: flags.maxConcurrentCpu ?? config.worker.maxConcurrentCpuActivities,
          tls: target.tls,
          settings: workerSettingsOf(config),
          identity: flags.identity ?? `nnunet-${flags.queue}-${process.pid}@${os.hostname()}`,
        });
      } catch (err) {
        if (/tonic::transport|ConnectionRefused|Failed to connect/i.test((err as Error)?.message ?? '')) throw await explainConnectionFailure(target, err, true);
        throw err;
      }
    });
}
