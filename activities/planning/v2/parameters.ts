/**
 * Trainable parameter count of each configuration's network as nnUNetTrainer.build_network_architecture builds it:
 * input channels = image channels (+ one per foreground label for 3d_cascade_fullres, which also sees the previous
 * stage's one-hot segmentation), output channels = LabelManager's segmentation heads (labels incl. background,
 * or one per region).
 */
import type { DatasetJsonV2 } from './dataset-json';
import { foregroundLabelCount, segmentationHeads } from './dataset-json';
import type { PlansV2 } from './experiment';
import { trainableParameters, unetKindOf, type UNetArchKwargs } from './network-size';

interface Architecture { network_class_name: string; arch_kwargs: UNetArchKwargs }

/** A configuration with inherits_from resolved (the child's keys win). */
export function resolveConfiguration(plans: PlansV2, name: string): Record<string, unknown> {
  const own = plans.configurations[name];
  if (!own) throw new Error(`plans ${String(plans.plans_name)} have no configuration ${name}`);
  const parent = typeof own.inherits_from === 'string' ? resolveConfiguration(plans, own.inherits_from) : {};
  return { ...parent, ...own };
}

export function networkParametersV2(plans: PlansV2, ds: DatasetJsonV2): Record<string, number> {
  const channels = Object.keys(ds.channel_names ?? ds.modality ?? {}).length;
  const out: Record<string, number> = {};
  for (const name of Object.keys(plans.configurations)) {
    const arch = resolveConfiguration(plans, name).architecture as Architecture;
    const inputs = channels + (name === '3d_cascade_fullres' ? foregroundLabelCount(ds) : 0);
    out[name] = trainableParameters(unetKindOf(arch.network_class_name), arch.arch_kwargs, inputs, segmentationHeads(ds));
  }
  return out;
}
