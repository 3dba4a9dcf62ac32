/**
 * Every activity the worker registers, by name. Each stage folder owns its activity function; this file only
 * gathers them (the worker wraps them with logging context and error mapping).
 */
import type { PipelineActivities } from './contract';
import { verifyDataset } from './io/activity';
import { fingerprint } from './fingerprint/activity';
import { plan } from './planning/activity';
import { preprocess } from './preprocessing/activity';
import { train } from './training/activity';
import { findBestConfiguration } from './ensembling/activity';
import { postprocess } from './postprocessing/activity';

export const pipelineActivities: PipelineActivities = {
  verifyDataset,
  fingerprint,
  plan,
  preprocess,
  train,
  findBestConfiguration,
  postprocess,
};
