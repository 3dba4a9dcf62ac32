/**
 * Preprocessing of a case at inference (nnU-Net v1's preprocess_test_case): load the channel files, crop to the
 * nonzero region (a 0 / -1 seg is synthesised, as nnU-Net does without a label), then the same transpose,
 * resampling and normalization as the training cases of that configuration. Nothing is written.
 */
import type { Configuration } from '../contract';
import { BadInputError } from '../common/errors';
import type { Plans } from '../planning/plans';
import { loadAndCrop } from '../fingerprint/crop-case';
import type { CroppedCaseProperties } from '../fingerprint/cropped-store';
import { resampleAndNormalize, type PreprocessedArrays } from './pipeline';
import { resolveConfiguration, type ResolvedConfiguration } from '../planning/configuration';
import { stageParamsOf } from './preprocess';

export interface TestCaseProperties extends Omit<CroppedCaseProperties, 'input_signature'> {
  size_after_resampling: number[];
  spacing_after_resampling: number[];
}

export interface PreprocessedTestCase extends PreprocessedArrays { properties: TestCaseProperties }

/**
 * `imageFiles` in channel order; `labelFile` only for the cascade's or evaluation's needs (null at inference).
 * `data` is (C + 1, z, y, x) with the synthesised seg last (-1 outside the nonzero mask).
 */
export async function preprocessTestCaseFor(imageFiles: string[], rc: ResolvedConfiguration, labelFile: string | null = null): Promise<PreprocessedTestCase> {
  const { cropped, properties } = await loadAndCrop(imageFiles, labelFile);
  if (cropped.numChannels !== rc.plans.num_modalities) {
    throw new BadInputError(`${imageFiles.join(', ')}: ${cropped.numChannels} channels, the model was trained on ${rc.plans.num_modalities}`, imageFiles[0]);
  }
  const r = resampleAndNormalize(cropped.data, cropped.numChannels, cropped.shape, properties.original_spacing, stageParamsOf(rc));
  const { input_signature: _unused, ...rest } = properties;
  return { ...r, properties: { ...rest, size_after_resampling: [...r.shape], spacing_after_resampling: r.spacing } };
}

/** preprocessTestCaseFor with the configuration resolved from the plans here. */
export function preprocessTestCase(imageFiles: string[], plans: Plans, configuration: Configuration, plansFile = 'plans', labelFile: string | null = null): Promise<PreprocessedTestCase> {
  return preprocessTestCaseFor(imageFiles, resolveConfiguration(plans, plansFile, configuration), labelFile);
}
