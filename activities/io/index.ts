/**
 * The data layer's public API: volumes and their geometry, NIfTI and .npy files, case properties, nnU-Net dataset
 * folders, verification, MSD conversion, the synthetic demo task, and nnU-Net's pickles and torch checkpoints.
 * Other stages import from here.
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
export { readPickle, writePickle, encodePickle, toPlain, NumpyArray, PyTuple, PyOrderedDict, type PyValue } from './pickle';
export { readTorchCheckpoint, writeTorchCheckpoint, type TensorData, type TorchCheckpoint } from './torch-checkpoint';
export * from './nnunet-pickles';
