/**
 * The command registry. Each module exports `register(program)`; add a line here for a new command.
 * Exit codes: 0 ok, 1 the work failed (bad dataset, failed workflow), 2 usage or configuration error.
 */
import type { Command } from 'commander';

type Registrar = (program: Command) => void;
const modules: Array<{ register: Registrar }> = [
  require('./doctor'),
  require('./server'),
  require('./run'),
  require('./status'),
  require('./worker'),
  require('./sweep'),
  require('./evaluate'),
  require('./plan'),
  require('./verify'),
  require('./convert-msd'),
  require('./demo-dataset'),
  require('./fingerprint'),
  require('./preprocess'),
  require('./inspect'),
  require('./train'),
  require('./predict'),
  require('./export-nnunet'),
  require('./ensemble'),
  require('./find-best'),
  require('./plan-and-preprocess'),
  require('./pretrained'),
  require('./determine-postprocessing'),
  require('./plot-task-pngs'),
  require('./change-trainer-class'),
  require('./move-to-v2'),
];

export function registerAll(program: Command): void {
  for (const m of modules) m.register(program);
}
