/**
 * One training case of nnU-Net v2's preprocessing (runs in a worker thread): run_case, then <case>.npz (`data`
 * float32 (C, z, y, x), `seg` int8/int16 (1, z, y, x)) and <case>.json (the properties v2 pickles) in the
 * configuration's data folder. v2 2.5+ writes blosc2 .b2nd files instead; earlier v2 wrote this npz + pkl pair.
 */
import { writeJsonAtomic } from '../../common/atomic';
import { serveWorkerRequests } from '../../common/worker-pool';
import type { ReaderWriterName } from '../../io/image-formats/registry';
import { writeNpz } from '../../io/npz';
import { preprocessedCaseV2Files } from '../../io/layout';
import type { LabelOrRegion } from './class-locations';
import type { PreprocessConfigurationV2 } from './plans';
import { runCaseV2 } from './run-case';

export interface PreprocessCaseV2Input {
  caseId: string;
  images: string[];
  label: string;
  dataFolder: string;
  configuration: PreprocessConfigurationV2;
  locationClasses: LabelOrRegion[];
  /** The dataset's image reader/writer. */
  readerWriter?: ReaderWriterName;
}

export interface PreprocessCaseV2Output { caseId: string; shape: number[] }

export async function preprocessCaseV2(input: PreprocessCaseV2Input): Promise<PreprocessCaseV2Output> {
  const r = await runCaseV2(input.images, input.label, input.configuration, input.locationClasses, input.readerWriter);
  const files = preprocessedCaseV2Files(input.dataFolder, input.caseId);
  writeNpz(files.npz, {
    data: { data: r.data, shape: [r.numChannels, ...r.shape], dtype: 'float32' },
    seg: r.seg instanceof Int16Array
      ? { data: r.seg, shape: [1, ...r.shape], dtype: 'int16' }
      : { data: r.seg, shape: [1, ...r.shape], dtype: 'int8' },
  });
  writeJsonAtomic(files.properties, r.properties);
  return { caseId: input.caseId, shape: [...r.shape] };
}

serveWorkerRequests(preprocessCaseV2);
