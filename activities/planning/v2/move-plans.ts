/**
 * nnUNetv2_move_plans_between_datasets: a dataset's plans made fit for another dataset (pretraining on one, finetuning
 * on another): the target's dataset name, the target plans name and the target's image reader/writer; with a new
 * plans name each configuration's data identifier is renamed too, so the two datasets' preprocessed data never mix.
 */
export type PlansJson = Record<string, unknown> & { configurations: Record<string, Record<string, unknown>> };

/** The reader/writer class nnU-Net v2 picks for a file ending when dataset.json names none (the first that reads it). */
export function readerWriterFor(fileEnding: string): string | undefined {
  const e = fileEnding.toLowerCase();
  if (['.png', '.bmp', '.tif'].includes(e)) return 'NaturalImage2DIO';
  if (['.nii.gz', '.nrrd', '.mha', '.gipl'].includes(e)) return 'SimpleITKIO';
  if (e === '.nii') return 'NibabelIO';
  if (e === '.tiff') return 'Tiff3DIO';
  return undefined;
}

export function movePlans(source: PlansJson, targetDatasetName: string, sourcePlans: string, targetPlans: string, imageReaderWriter: string): PlansJson {
  const plans = structuredClone(source);
  plans.dataset_name = targetDatasetName;
  if (targetPlans !== sourcePlans) {
    for (const c of Object.values(plans.configurations)) {
      if (typeof c.data_identifier !== 'string') continue;
      const old = c.data_identifier;
      c.data_identifier = old.startsWith(sourcePlans) ? targetPlans + old.slice(sourcePlans.length) : `${targetPlans}_${old}`;
    }
  }
  plans.image_reader_writer = imageReaderWriter;
  plans.plans_name = targetPlans;
  return plans;
}
