/**
 * The parts of a v2 plans.json (nnUNetPlans.json) that preprocessing reads, one configuration resolved as v2's
 * PlansManager does: a configuration with `inherits_from` is its parent's dict updated with its own keys.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import type { ResamplingKwargsV2 } from './resampling';
import type { ChannelNormalizationV2, IntensityPropertiesV2 } from './normalization';

export interface PlansJsonV2 {
  plans_name?: string;
  transpose_forward: number[];
  foreground_intensity_properties_per_channel: Record<string, Partial<IntensityPropertiesV2>>;
  configurations: Record<string, Record<string, unknown>>;
}

export interface PreprocessConfigurationV2 {
  name: string;
  dataIdentifier: string;
  preprocessorName: string;
  transposeForward: number[];
  /** Transposed axis order; 2 entries for a 2D configuration. */
  spacing: number[];
  normalizations: ChannelNormalizationV2[];
  resamplingData: ResamplingKwargsV2;
  resamplingSeg: ResamplingKwargsV2;
}

export function readPlansV2(file: string): PlansJsonV2 {
  let plans: PlansJsonV2;
  try {
    plans = JSON.parse(fs.readFileSync(file, 'utf8')) as PlansJsonV2;
  } catch (e) {
    throw new BadInputError(`${file}: not a readable plans.json (${(e as Error).message}); make it with \`nnunet plan --fingerprint ... --dataset-json ... --json\``, file);
  }
  if (!plans || typeof plans.configurations !== 'object' || !Array.isArray(plans.transpose_forward)) {
    throw new BadInputError(`${file}: not an nnU-Net v2 plans file (configurations and transpose_forward missing)`, file);
  }
  return plans;
}

/** A configuration's own fields over those it inherits_from (ConfigurationManager's view, unvalidated). */
export function rawConfiguration(plans: PlansJsonV2, name: string, source: string, seen: string[] = []): Record<string, unknown> {
  const own = plans.configurations[name];
  if (!own) throw new BadInputError(`${source}: no configuration "${name}" (has ${Object.keys(plans.configurations).join(', ')})`, source);
  const parent = own.inherits_from;
  if (typeof parent !== 'string') return { ...own };
  if (seen.includes(parent)) throw new BadInputError(`${source}: configuration "${name}" inherits from itself through ${seen.join(' -> ')}`, source);
  return { ...rawConfiguration(plans, parent, source, [...seen, name]), ...own };
}

export function resolveConfigurationV2(plans: PlansJsonV2, name: string, source: string): PreprocessConfigurationV2 {
  const c = rawConfiguration(plans, name, source);
  const need = <T>(key: string): T => {
    if (c[key] === undefined) throw new BadInputError(`${source}: configuration "${name}" has no ${key}`, source);
    return c[key] as T;
  };
  for (const key of ['resampling_fn_data', 'resampling_fn_seg']) {
    if (need<string>(key) !== 'resample_data_or_seg_to_shape') {
      throw new BadInputError(`${source}: configuration "${name}": ${key} ${String(c[key])} is not supported (only resample_data_or_seg_to_shape)`, source);
    }
  }
  const schemes = need<string[]>('normalization_schemes');
  const masks = need<boolean[]>('use_mask_for_norm');
  const normalizations = schemes.map((scheme, i) => {
    const p = plans.foreground_intensity_properties_per_channel?.[String(i)];
    const intensity = p && [p.mean, p.std, p.percentile_00_5, p.percentile_99_5].every((v) => typeof v === 'number') ? p as IntensityPropertiesV2 : undefined;
    return { scheme, useMaskForNorm: masks[i] === true, intensity };
  });
  return {
    name,
    dataIdentifier: need<string>('data_identifier'),
    preprocessorName: need<string>('preprocessor_name'),
    transposeForward: plans.transpose_forward,
    spacing: need<number[]>('spacing'),
    normalizations,
    resamplingData: need<ResamplingKwargsV2>('resampling_fn_data_kwargs'),
    resamplingSeg: need<ResamplingKwargsV2>('resampling_fn_seg_kwargs'),
  };
}
