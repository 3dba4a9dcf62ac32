/**
 * A Temporal session for one CLI command: a Client, and in embedded mode (no temporal.address) the dev
 * server for the results folder plus, when asked, in-process workers for both queues. close() undoes
 * everything this process started, in order: workers (graceful: running activities get to checkpoint),
 * connections, then the server (only if this process started it).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '../../config';
import { configureLogging, type Logger } from '../../activities/common/logger';
import { bundleWorkflows, createWorkers, workerSettingsOf, type NnunetWorkers } from '../../worker';
import { WORKFLOW_TASK_QUEUE } from '../../workflows/options';
import { explainConnectionFailure, remoteTarget, type ConnectionTarget } from './connection';
import { ensureEmbeddedServer, temporalDir, type EmbeddedServer } from './embedded';
import { nextSessionIdentity, restartOrphanedAttempts } from './orphans';
import { installTemporalLogging } from './runtime-logging';
import { isAlive } from './server-lock';

export interface SessionOptions {
  /** Run in-process workers for both queues (embedded mode only). */
  worker?: boolean;
  /**
   * When this session starts the embedded server itself (no `nnunet run` is serving it): run a workflow-only
   * worker so `state` queries are answered (activities stay queued for a real run).
   */
  queryWorker?: boolean;
  /** Web UI for an embedded server this session starts (default false: it lets anyone on this machine in). */
  ui?: boolean;
  /** Progress messages for the user (stderr by default). */
  say?: (message: string) => void;
}

export interface TemporalSession {
  client: Client;
  namespace: string;
  address: string;
  /** Set in embedded mode. */
  server?: EmbeddedServer;
  /** Where worker and activity logs go in embedded mode. */
  logFile?: string;
  workers?: NnunetWorkers;
  /** Rejects if the in-process workers stop on their own (a fatal worker error). */
  workersDone?: Promise<void>;
  close(): Promise<void>;
}

async function connectClient(target: ConnectionTarget, namespace: string): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...target, connectTimeout: 10_000 });
  } catch (err) {
    throw await explainConnectionFailure(target, err);
  }
  return { connection, client: new Client({ connection, namespace }) };
}

/** Worker and activity logs of an embedded run go to a file, so they do not tear through the live view. */
function embeddedLogger(config: Config): { logger: Logger; logFile: string } {
  const logFile = path.join(temporalDir(config), 'worker.log');
  return { logger: configureLogging({ destination: logFile, level: config.logging.level }), logFile };
}

export async function openSession(config: Config, opts: SessionOptions = {}): Promise<TemporalSession> {
  const say = opts.say ?? ((m: string) => process.stderr.write(`${m}\n`));
  const namespace = config.temporal.namespace;
  const remote = remoteTarget(config.temporal);
  if (remote) {
    const { client, connection } = await connectClient(remote, namespace);
    return { client, namespace, address: remote.address, close: () => connection.close() };
  }

  // Another nnunet process's server may stop while this one connects to it (that process finished): start or find
  // one again rather than fail (five nnUNet_train calls at once share one server that the first of them started).
  for (let attempt = 1; ; attempt++) {
    try {
      return await openEmbeddedSession(config, opts, say);
    } catch (err) {
      if (!(err instanceof BorrowedServerGone) || attempt >= MAX_SERVER_TRIES) throw err;
      say(`${err.message}; starting or finding the embedded server again …`);
    }
  }
}

const MAX_SERVER_TRIES = 3;

/** The borrowed embedded server stopped while this session was being set up on it. */
class BorrowedServerGone extends Error {}

/** Whether a server process has exited, or exits within `ms` (an RPC error often arrives just before it is gone). */
export const stoppedWithin = (server: EmbeddedServer, ms: number): Promise<boolean> =>
  Promise.race([server.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(!isAlive(server.pid)), ms).unref())]);

async function openEmbeddedSession(config: Config, opts: SessionOptions, say: (m: string) => void): Promise<TemporalSession> {
  const namespace = config.temporal.namespace;
  say(`starting the embedded Temporal server (history in ${temporalDir(config)}) …`);
  const server = await ensureEmbeddedServer(config, { uiPort: opts.ui === true ? undefined : false, say });
  say(server.owned && !server.adopted ? `Temporal server ready at ${server.address}${server.uiUrl ? `, web UI ${server.uiUrl}` : ''}` : `using the running embedded server at ${server.address}${server.uiUrl ? ` (web UI ${server.uiUrl})` : ''}`);
  const cleanups: Array<() => Promise<void>> = [() => server.stop()];
  const close = async (): Promise<void> => {
    while (cleanups.length) {
      const step = cleanups.pop()!;
      await step().catch((err: unknown) => say(`warning during shutdown: ${(err as Error).message}`));
    }
  };
  try {
    const { client, connection } = await connectClient({ address: server.address }, namespace);
    // A borrowed server that has gone leaves calls in the SDK's retry back-off; closing their channel now would
    // make the next retry throw out of a timer. Leave it: those calls run out of retries and fail quietly.
    cleanups.push(async () => {
      if (server.owned || isAlive(server.pid)) await connection.close();
    });
    const session: TemporalSession = { client, namespace, address: server.address, server, close };
    if (opts.worker) {
      // Steps that a killed nnunet process (or this one's earlier workers) ran would otherwise wait for their heartbeat timeout.
      const { identity, session: currentSession } = nextSessionIdentity('run');
      await restartOrphanedAttempts(client, say, { currentSession }).catch((err: unknown) => say(`warning: could not check for steps left by a killed run: ${(err as Error).message}`));
      const { logger, logFile } = embeddedLogger(config);
      installTemporalLogging(logger);
      const native = await NativeConnection.connect({ address: server.address });
      cleanups.push(() => native.close());
      say('starting in-process workers (queues nnunet-cpu and nnunet-gpu) …');
      const workers = await createWorkers({
        connection: native,
        namespace,
        queues: 'all',
        maxConcurrentCpu: config.worker.maxConcurrentCpuActivities,
        settings: workerSettingsOf(config),
        identity,
      });
      const running = workers.run();
      running.catch(() => {}); // observed through workersDone
      cleanups.push(async () => {
        workers.shutdown();
        await running.catch(() => {});
      });
      Object.assign(session, { workers, workersDone: running, logFile });
    } else if (opts.queryWorker && server.owned) {
      installTemporalLogging(embeddedLogger(config).logger);
      const native = await NativeConnection.connect({ address: server.address });
      cleanups.push(() => native.close());
      const worker = await Worker.create({
        connection: native,
        namespace,
        taskQueue: WORKFLOW_TASK_QUEUE,
        workflowBundle: await bundleWorkflows(),
        identity: `nnunet-status-${process.pid}@${os.hostname()}`,
      });
      const running = worker.run();
      running.catch(() => {});
      cleanups.push(async () => {
        worker.shutdown();
        await running.catch(() => {});
      });
    }
    return session;
  } catch (err) {
    await close();
    if (!server.owned && await stoppedWithin(server, 2500)) throw new BorrowedServerGone(`the embedded server at ${server.address} stopped while this process connected to it`);
    throw err;
  }
}
