#!/usr/bin/env node
/** The `nnunet` command. Each command lives in client/commands/<name>.ts and registers itself. */
import { Command } from 'commander';
import { registerAll } from './commands';

const program = new Command('nnunet')
  .description('nnU-Net in TypeScript, run as a durable Temporal workflow')
  .option('--config <file>', 'YAML config file (overrides config/defaults.yaml and environment variables)')
  .option('--allow-external-symlinks', 'read task files that are symbolic links leading outside the task folder (data.allowExternalSymlinks)')
  .showHelpAfterError();
registerAll(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`nnunet: ${(err as Error).message ?? err}`);
  process.exit(typeof (err as { exitCode?: number }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1);
});
