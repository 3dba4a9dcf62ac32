/**
 * What nnU-Net v2's planners read from dataset.json: channel names (→ normalization class; unknown names get
 * ZScoreNormalization), labels (output channels), numTraining, file_ending (→ image reader/writer class).
 */
import { BadInputError } from '../../common/errors';

export interface DatasetJsonV2 {
  channel_names?: Record<string, string>;
  /** v1-style name that v2 still accepts in place of channel_names. */
  modality?: Record<string, string>;
  labels: Record<string, number | number[]>;
  numTraining: number;
  file_ending: string;
  overwrite_image_reader_writer?: string;
  regions_class_order?: number[];
}

/** get_normalization_scheme's table (case-folded channel name → class) and whether the class keeps zeros outside a mask. */
const NORMALIZATION: Record<string, { name: string; zeroOutsideMask: boolean }> = {
  ct: { name: 'CTNormalization', zeroOutsideMask: false },
  nonorm: { name: 'NoNormalization', zeroOutsideMask: false },
  zscore: { name: 'ZScoreNormalization', zeroOutsideMask: true },
  rescale_to_0_1: { name: 'RescaleTo01Normalization', zeroOutsideMask: false },
  rgb_to_0_1: { name: 'RGBTo01Normalization', zeroOutsideMask: false },
};

/** determine_normalization_scheme_and_whether_mask_is_used_for_norm: the mask only when cropping removed > 25%. */
export function normalizationV2(ds: DatasetJsonV2, medianRelativeSizeAfterCropping: number): { schemes: string[]; useMask: boolean[] } {
  const classes = Object.values(ds.channel_names ?? ds.modality ?? {}).map((c) => NORMALIZATION[c.toLowerCase()] ?? NORMALIZATION.zscore!);
  const masked = medianRelativeSizeAfterCropping < 3 / 4;
  return { schemes: classes.map((c) => c.name), useMask: classes.map((c) => masked && c.zeroOutsideMask) };
}

/** Reader/writer classes in nnU-Net v2's registry order with the file endings each supports. */
const READER_WRITERS: ReadonlyArray<[string, readonly string[]]> = [
  ['NaturalImage2DIO', ['.png', '.bmp', '.tif']],
  ['SimpleITKIO', ['.nii.gz', '.nrrd', '.mha', '.gipl']],
  ['Tiff3DIO', ['.tif', '.tiff']],
  ['NibabelIO', ['.nii', '.nii.gz']],
  ['NibabelIOWithReorient', ['.nii', '.nii.gz']],
];

/** The first registered reader/writer for the file ending (dataset.json's overwrite_image_reader_writer wins). */
export function readerWriterFor(ds: DatasetJsonV2): string {
  const named = ds.overwrite_image_reader_writer;
  if (named && named !== 'None' && READER_WRITERS.some(([n]) => n === named)) return named;
  const ending = ds.file_ending.toLowerCase();
  const found = READER_WRITERS.find(([, endings]) => endings.includes(ending));
  if (!found) throw new BadInputError(`dataset.json file_ending "${ds.file_ending}" has no nnU-Net v2 reader/writer; use one of ${READER_WRITERS.flatMap(([, e]) => e).join(', ')}`);
  return found[0];
}

const isRegionBased = (ds: DatasetJsonV2): boolean => Object.values(ds.labels).some((v) => Array.isArray(v));

/** LabelManager.all_labels: the distinct integer labels, the ignore label left out. */
function allLabels(ds: DatasetJsonV2): number[] {
  const ignore = ds.labels.ignore;
  const values = Object.entries(ds.labels).filter(([name]) => name !== 'ignore').flatMap(([, v]) => (Array.isArray(v) ? v : [v]));
  return [...new Set(values)].filter((v) => typeof ignore !== 'number' || v !== ignore);
}

/** LabelManager.foreground_labels: every label but background (0) and the ignore label, ascending. */
export function foregroundLabelsOf(ds: DatasetJsonV2): number[] {
  return allLabels(ds).filter((v) => v !== 0).sort((a, b) => a - b);
}

export function foregroundLabelCount(ds: DatasetJsonV2): number {
  return foregroundLabelsOf(ds).length;
}

/** LabelManager.num_segmentation_heads: one per region (region-based), else one per label incl. background. */
export function segmentationHeads(ds: DatasetJsonV2): number {
  if (isRegionBased(ds)) return Object.keys(ds.labels).filter((name) => name !== 'background' && name !== 'ignore').length;
  return allLabels(ds).length;
}
