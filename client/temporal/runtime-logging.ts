/**
 * Routes the Temporal SDK's logs (worker, workflow and activity `ctx.log` lines, which carry task,
 * configuration, fold and attempt) into a pino logger. Must run before the first NativeConnection/Worker.
 */
import { Runtime, type Logger as TemporalLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../../activities/common/logger';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { taskToken: _token, ...fields } = meta ?? {};
    // Activity lines always carry the four keys one greps by; null where a step has no configuration or fold.
    const line = fields.sdkComponent === 'activity' ? { task: null, configuration: null, fold: null, ...fields } : fields;
    this.logger[PINO_LEVEL[level]](line, message);
  }
  trace(message: string, meta?: LogMetadata): void { this.log('TRACE', message, meta); }
  debug(message: string, meta?: LogMetadata): void { this.log('DEBUG', message, meta); }
  info(message: string, meta?: LogMetadata): void { this.log('INFO', message, meta); }
  warn(message: string, meta?: LogMetadata): void { this.log('WARN', message, meta); }
  error(message: string, meta?: LogMetadata): void { this.log('ERROR', message, meta); }
}

/** A line of the SDK's retry loop while the server cannot be reached (core repeats these every poll). */
const SERVER_AWAY = /transport error|tcp connect error|connection refused|ConnectionRefused|Unavailable|broken pipe|connection reset|error trying to connect/i;
/** While the server is away: one line a minute, not one per poll retry (~40 KB a minute). */
export const SERVER_AWAY_REPORT_MS = 60_000;

/**
 * Collapses the SDK's repeated connection warnings into one line when the server goes away and one a minute while
 * it stays away; every other line passes through.
 */
export class ServerAwayFilter implements TemporalLogger {
  private awaySince?: number;
  private lastReport = 0;
  private lastSeen = 0;
  private suppressed = 0;

  constructor(private readonly inner: TemporalLogger, private readonly address: string, private readonly now: () => number = Date.now) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const about = `${message} ${JSON.stringify(meta ?? {})}`;
    if ((level !== 'WARN' && level !== 'ERROR') || !SERVER_AWAY.test(about)) {
      this.inner.log(level, message, meta);
      return;
    }
    const t = this.now();
    // A minute without such a warning means the server was back meanwhile: this is a new outage.
    if (this.awaySince === undefined || t - this.lastSeen > SERVER_AWAY_REPORT_MS) {
      this.awaySince = t;
      this.lastReport = t;
      this.suppressed = 0;
      this.inner.log('WARN', `the Temporal server at ${this.address} does not answer (${message}); retrying with back-off, one line a minute while it is away: check that it runs (nnunet server, or your cluster) and that TEMPORAL_ADDRESS is right`);
    } else if (t - this.lastReport >= SERVER_AWAY_REPORT_MS) {
      this.lastReport = t;
      this.inner.log('WARN', `the Temporal server at ${this.address} has not answered for ${Math.round((t - this.awaySince) / 60_000)} min (${this.suppressed} retries); still retrying`);
      this.suppressed = 0;
    } else this.suppressed++;
    this.lastSeen = t;
  }
  trace(message: string, meta?: LogMetadata): void { this.log('TRACE', message, meta); }
  debug(message: string, meta?: LogMetadata): void { this.log('DEBUG', message, meta); }
  info(message: string, meta?: LogMetadata): void { this.log('INFO', message, meta); }
  warn(message: string, meta?: LogMetadata): void { this.log('WARN', message, meta); }
  error(message: string, meta?: LogMetadata): void { this.log('ERROR', message, meta); }
}

let installed = false;

/**
 * Installs the Temporal runtime with our logger (once per process; later calls are no-ops). With `address`, the
 * SDK's repeated warnings while that server is away are collapsed (ServerAwayFilter).
 */
export function installTemporalLogging(logger: Logger, opts: { address?: string } = {}): void {
  if (installed) return;
  installed = true;
  const pino = new PinoTemporalLogger(logger);
  // Core's own (Rust) warnings, e.g. poll retries while a server restarts, go to the same log, not the console.
  Runtime.install({
    logger: opts.address ? new ServerAwayFilter(pino, opts.address) : pino,
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
}
