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

let installed = false;

/** Installs the Temporal runtime with our logger (once per process; later calls are no-ops). */
export function installTemporalLogging(logger: Logger): void {
  if (installed) return;
  installed = true;
  // Core's own (Rust) warnings, e.g. poll retries while a server restarts, go to the same log, not the console.
  Runtime.install({ logger: new PinoTemporalLogger(logger), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } } });
}
