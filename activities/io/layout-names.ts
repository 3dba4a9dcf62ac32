/**
 * The names of nnU-Net's folders, files and default classes, as plain constants with no imports, so that
 * workflow code (which may not touch the file system) can use them too. Paths are built only in layout.ts.
 */

/** nnU-Net v1's default trainer and the cascade's own trainer (nnUNet_train -tr / -ctr defaults). */
export const DEFAULT_TRAINER = 'nnUNetTrainerV2';
export const CASCADE_TRAINER = 'nnUNetTrainerV2CascadeFullRes';
/** nnUNetTrainerV2CascadeFullRes's default previous_trainer: whose pred_next_stage the cascade reads. */
export const DEFAULT_LOWRES_TRAINER = DEFAULT_TRAINER;

/** Checkpoint names without the `.model` extension, as nnUNet_predict's -chk takes them. */
export const CHECKPOINT_NAMES = {
  final: 'model_final_checkpoint',
  latest: 'model_latest',
  best: 'model_best',
} as const;
export const DEFAULT_CHECKPOINT = CHECKPOINT_NAMES.final;
/** In a fold folder: the token of the last start-over (nnUNet_train without -c), so a retry does not start over again. */
export const START_OVER_FILE = 'start_over.json';

/** Sub-folders of a model folder, a fold folder and an ensemble folder. */
export const RESULT_FOLDERS = {
  validation: 'validation_raw',
  /** nnU-Net's default name of a postprocessed validation folder (determine_postprocessing). */
  validationFinal: 'validation_final',
  /** A fold's validation_raw with the fold's own postprocessing applied (nnU-Net's validate()). */
  validationPostprocessed: 'validation_raw_postprocessed',
  gtNiftis: 'gt_niftis',
  cvRaw: 'cv_niftis_raw',
  cvPostprocessed: 'cv_niftis_postprocessed',
  ensembledRaw: 'ensembled_raw',
  ensembledPostprocessed: 'ensembled_postprocessed',
  predNextStage: 'pred_next_stage',
  /** nnU-Net v2's fold validation (nnUNetTrainer.perform_actual_validation). */
  v2Validation: 'validation',
  /** v2's 3d_lowres validation exports for the next stage: <model>/predicted_next_stage/<next configuration>/<case>.npz. */
  v2PredictedNextStage: 'predicted_next_stage',
} as const;

/** nnU-Net v2's checkpoint files in a fold folder (nnUNetPredictor's default is the final one). */
export const V2_CHECKPOINT_FILES = {
  final: 'checkpoint_final.pth',
  best: 'checkpoint_best.pth',
  latest: 'checkpoint_latest.pth',
} as const;
