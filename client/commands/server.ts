/** `nnunet server`: the embedded Temporal dev server alone (its web UI only with --ui) until Ctrl-C. */
import type { Command } from 'commander';
import { configFor, positiveInt, UsageError } from '../context';

export function register(program: Command): void {
  program
    .command('server')
    .description('start the embedded Temporal dev server (SQLite history under the results folder); runs until Ctrl-C')
    .option('--port <n>', 'gRPC port (default: a free one)', positiveInt('--port'))
    .option('--ui', 'also start the web UI (anyone on this machine can use it; see docs/reliability.md)')
    .option('--ui-port <n>', 'web UI port (implies --ui; default: a free one)', positiveInt('--ui-port'))
    .option('--headless', 'no web UI (the default; kept for scripts that pass it)')
    .option('--json', 'print the addresses as one JSON line once ready')
    .action(async (opts: { port?: number; ui?: boolean; uiPort?: number; headless?: boolean; json?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      const { ensureEmbeddedServer, findRunningServer, temporalDir } = await import('../temporal/embedded');
      if (config.temporal.address) {
        throw new UsageError(`TEMPORAL_ADDRESS is set (${config.temporal.address}): nnunet server runs only the embedded server; unset it`);
      }
      const running = await findRunningServer(config);
      if (running) {
        throw new UsageError(`an embedded server for ${config.paths.results} is already running at ${running.address} (pid ${running.pid})`);
      }
      if (opts.headless && (opts.ui || opts.uiPort !== undefined)) throw new UsageError('--headless contradicts --ui / --ui-port: pick one');
      const withUi = opts.ui === true || opts.uiPort !== undefined;
      const server = await ensureEmbeddedServer(config, { port: opts.port, uiPort: withUi ? opts.uiPort : false, reuse: false });
      const info = { address: server.address, namespace: server.namespace, uiUrl: server.uiUrl, pid: server.pid, dir: temporalDir(config) };
      if (opts.json) process.stdout.write(`${JSON.stringify(info)}\n`);
      else {
        console.log(`Temporal dev server ready
  address    ${info.address}   (TEMPORAL_ADDRESS=${info.address} for workers and clients on this machine)
  namespace  ${info.namespace}
  web UI     ${info.uiUrl ?? '(none; --ui starts it)'}
  history    ${info.dir}/temporal.db
nnunet run/status in another terminal use this server. Ctrl-C stops it.`);
      }
      let stopping = false;
      const stop = (): void => {
        if (stopping) return;
        stopping = true;
        if (!opts.json) console.log('\nstopping the server…');
        void server.stop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const code = await server.exited;
      if (!stopping) {
        await server.stop();
        throw new Error(`the Temporal server exited unexpectedly (code ${code}); see ${info.dir}/temporal.db.log`);
      }
    });
}
