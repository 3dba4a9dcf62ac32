/**
 * The embedded Temporal server for one results folder: `<results>/.temporal/temporal.db` (history survives
 * restarts) and `server.json`, which tells later commands (a second `nnunet run`, `nnunet status`) that a
 * server for this folder is already up, so they use it instead of starting a second one on the same SQLite file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../config';
import { writeJsonAtomic } from '../../activities/common/atomic';
import { startDevServer, waitForTemporal, type DevServer } from './devserver';

export interface ServerInfo {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
}

export interface EmbeddedServer extends ServerInfo {
  /** True when this process started the server (and must stop it). */
  owned: boolean;
  stop(): Promise<void>;
  /** Resolves when an owned server exits; never for a borrowed one. */
  exited: Promise<number | null>;
}

export const temporalDir = (config: Config): string => path.join(config.paths.results, '.temporal');
const infoFile = (config: Config): string => path.join(temporalDir(config), 'server.json');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A running embedded server for this results folder, if server.json names a live, answering one. */
export async function findRunningServer(config: Config): Promise<ServerInfo | undefined> {
  let info: ServerInfo;
  try {
    info = JSON.parse(fs.readFileSync(infoFile(config), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
  if (!isAlive(info.pid)) return undefined;
  try {
    await waitForTemporal(info.address, info.namespace, 5000);
    return info;
  } catch {
    return undefined;
  }
}

export interface EmbeddedOptions {
  port?: number;
  uiPort?: number | false;
  /** Reuse a server another nnunet process started for this folder (default true). */
  reuse?: boolean;
}

/** Uses the running server for this results folder, or starts one (and records it in server.json). */
export async function ensureEmbeddedServer(config: Config, opts: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  if (opts.reuse !== false) {
    const running = await findRunningServer(config);
    if (running) return { ...running, owned: false, stop: async () => {}, exited: new Promise(() => {}) };
  }
  const server: DevServer = await startDevServer({
    dbFile: path.join(temporalDir(config), 'temporal.db'),
    port: opts.port,
    uiPort: opts.uiPort,
    namespace: config.temporal.namespace,
    readyTimeoutMs: config.temporal.serverReadyTimeoutSeconds * 1000,
    ownProcessGroup: true,
  });
  const info: ServerInfo = { address: server.address, namespace: server.namespace, uiUrl: server.uiUrl, pid: server.pid };
  writeJsonAtomic(infoFile(config), info);
  // If this process dies without stop() (an uncaught error), take the server down with it.
  const killOnExit = (): void => {
    try {
      process.kill(server.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', killOnExit);
  return {
    ...info,
    owned: true,
    exited: server.exited,
    async stop() {
      try {
        const current = JSON.parse(fs.readFileSync(infoFile(config), 'utf8')) as ServerInfo;
        if (current.pid === server.pid) fs.rmSync(infoFile(config), { force: true });
      } catch {
        /* already gone */
      }
      process.off('exit', killOnExit);
      await server.stop();
    },
  };
}
