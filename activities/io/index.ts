/**
 * The data layer's public API: volumes and their geometry, NIfTI and .npy files, case properties, nnU-Net dataset
 * folders, verification, MSD conversion and the synthetic demo task. Other stages import from here.
 */
export * from './geometry';
export * from './volume';
export { readNifti, readNiftiSync, writeNifti, writeNiftiSync, encodeNifti1, type NiftiInfo, type NiftiVolume, type WriteNiftiOptions } from './nifti';
export { readNpy, readNpySync, writeNpy, encodeNpy, decodeNpy, type NdArray } from './npy';
export { readCaseProperties, writeCaseProperties, type CaseProperties } from './properties';
export {
  readDataset, resolveTask, taskPaths, resolveInside, casesInFolder, channelFileName, labelValues, labelsByValue,
  type CaseFiles, type DataRoots, type DatasetDescription, type DatasetFormat, type LabelDef,
} from './dataset';
export { verifyDatasetFolder, verifyOrThrow, formatProblem, type Problem, type VerifyOptions, type VerifyReport } from './verify';
