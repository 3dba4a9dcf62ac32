/**
 * nnUNetTrainerV2CascadeFullRes: nnUNetTrainerV2 on the fullres stage with the previous stage's one-hot maps as
 * input (loader + augmentation: batch-worker.ts). Everything else about the cascade (the pred_next_stage export,
 * reading those maps, the inference-time input) lives in inference/cascade.ts.
 */
import { BadInputError } from '../common/errors';
import { CASCADE_TRAINER, RESULT_FOLDERS } from '../io/layout';
import { foregroundLabels } from '../inference/cascade';
import { NnUNetTrainerV2, type CascadeInput } from './trainer';

export class NnUNetTrainerV2CascadeFullRes extends NnUNetTrainerV2 {
  protected override cascadeInput(): CascadeInput {
    const dir = this.setup.previousStageDir;
    if (!dir) throw new BadInputError(`${CASCADE_TRAINER} needs the 3d_lowres ${RESULT_FOLDERS.predNextStage} folder (TrainerSetup.previousStageDir)`);
    return { previousStageDir: dir, labels: foregroundLabels(this.setup.plans) };
  }
}
