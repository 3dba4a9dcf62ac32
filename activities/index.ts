/**
 * Every activity the worker registers, by name. Each stage folder owns its activity function; this file only
 * gathers them (the worker wraps them with logging context and error mapping).
 */
import type { PipelineActivities, WorkerSettings } from './contract';
import { verifyDataset } from './io/activity';
import { fingerprint } from './fingerprint/activity';
import { plan } from './planning/activity';
import { preprocess } from './preprocessing/activity';
import { train } from './training/activity';
import { findBestConfiguration } from './ensembling/activity';
import { postprocess } from './postprocessing/activity';

/** The pipeline's activities, run with this worker's settings (from its Config). */
export function createPipelineActivities(settings: WorkerSettings = {}): PipelineActivities {
  return {
    verifyDataset,
    fingerprint,
    plan,
    preprocess,
    train: (input) => train(input, settings),
    findBestConfiguration,
    postprocess,
  };
}
