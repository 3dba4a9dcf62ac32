/**
 * nnU-Net v2's console scripts (nnUNetv2_*) as nnunet-ts commands. Each reads its command line with v2's own argparse
 * definition (client/v2-argparse-specs.ts), then either runs with v2's meaning (client/v2-commands.ts, or an `nnunet`
 * command) or, where nnunet-ts lacks the v2 piece it needs (v2 trainer, predictor, preprocessing), exits 2 saying
 * what is missing and what works instead. `-h` prints argparse's usage and what each flag does here.
 */
import { Command } from 'commander';
import { loadConfig, type Config } from '../config';
import { registerAll } from './commands';
import { UsageError } from './context';
import { parseV2Args, v2OptionLabel, v2UsageLine, type V2Args } from './v2-argparse';
import { V2_PARSERS } from './v2-argparse-specs';
import * as v2 from './v2-commands';
import * as pipeline from './v2-pipeline';
import * as predictV2 from './v2-predict';
import { V2NotAvailable } from './v2-commands';
import { trainV2 } from './v2-train';

export { V2NotAvailable };

interface V2Entry {
  /** What nnunet-ts does with the command, one line. */
  does: string;
  /** Per option (first spelling) or positional: what it does here; absent = parsed, see `does`. */
  flags?: Record<string, string>;
  run: v2.V2Handler | { missing: string; instead: string };
}

const NP_IGNORED = 'accepted, no effect: work runs in this process (nnUNet_def_n_proc sets the thread count)';
const LOGGING = { '--verbose': 'accepted, no effect', '--no_pbar': 'accepted, no effect' };
const V2_PREPROCESSED_PLOTS = 'plots of nnU-Net v2\'s preprocessed data (nnUNetPlans_CONFIGURATION/<case>.npz)';

/** The flags nnUNetv2_predict and nnUNetv2_predict_from_modelfolder share. */
const PREDICT_FLAGS = {
  '-i': 'input folder: <case>_XXXX<file_ending>, one file per channel', '-o': 'output folder: <case><file_ending>, plus dataset.json, plans.json, predict_from_raw_data_args.json',
  '-f': 'folds (default 0 1 2 3 4, as v2: a fold without the checkpoint is an error; all = fold_all)', '-step_size': 'sliding window step (fraction of the patch)',
  '--disable_tta': 'no mirroring', '--save_probabilities': '<case>.npz (probabilities, float32) + <case>.pkl (properties)', '-chk': 'checkpoint file name in each fold folder',
  '-prev_stage_predictions': 'cascade: folder with the previous stage\'s <case><file_ending> (required for a model with previous_stage)',
  '-npp': NP_IGNORED, '-nps': NP_IGNORED, '-device': 'accepted: the tensor backend is the configured one (worker.backend / NNUNET_BACKEND)',
  '--verbose': 'accepted, no effect', '--disable_progress_bar': 'accepted, no effect', '--not_on_device': 'accepted, no effect',
  '--continue_prediction': 'skip cases whose output exists',
};

function missing(what: string, instead: string): { missing: string; instead: string } {
  return { missing: what, instead };
}

export const V2_ENTRIES: Record<string, V2Entry> = {
  nnUNetv2_convert_MSD_dataset: {
    does: 'converts a Decathlon TaskYY_NAME folder into nnUNet_raw/DatasetXXX_NAME (4D images split into _0000, _0001, ...; v2 dataset.json)',
    flags: { '-i': 'the MSD folder', '-overwrite_id': 'the dataset id (default: the MSD id); an id already used in nnUNet_raw, nnUNet_preprocessed or nnUNet_results is refused', '-np': NP_IGNORED },
    run: v2.convertMsdDataset,
  },
  nnUNetv2_convert_old_nnUNet_dataset: {
    does: 'copies a v1 TaskXXX_NAME folder to nnUNet_raw/DatasetXXX_NAME with its dataset.json in v2\'s schema',
    flags: { input_folder: 'path of the v1 task folder', output_dataset_name: 'the new DatasetXXX_NAME (a name)' },
    run: v2.convertOldDataset,
  },
  nnUNetv2_plan_experiment: {
    does: 'v2\'s planners on nnUNet_preprocessed/DatasetXXX/dataset_fingerprint.json (nnUNetv2_extract_fingerprint writes it); writes PLANS_NAME.json there and copies dataset.json beside it',
    flags: {
      '-d': 'dataset ids', '-pl': 'ExperimentPlanner, nnUNetPlannerResEncM/L/XL', '-gpu_memory_target': 'GPU memory target in GB (default: the planner\'s)',
      '-preprocessor_name': 'written into each configuration of the plans', '-overwrite_target_spacing': 'three numbers: 3d_fullres target spacing',
      '-overwrite_plans_name': 'the plans name (file name and data identifiers)',
    },
    run: v2.planExperiment,
  },
  nnUNetv2_evaluate_folder: {
    does: 'evaluates a prediction folder against references into v2\'s summary.json (labels, regions and the ignore label from dataset.json)',
    flags: {
      gt_folder: 'reference segmentations', pred_folder: 'predictions (same file names)', '-djfile': 'dataset.json: file_ending, labels/regions, ignore label',
      '-pfile': 'plans.json: must use v2\'s default LabelManager', '-o': 'output file (default: pred_folder/summary.json)', '-np': 'parallel cases (at most 4)',
      '--chill': 'references without a prediction are allowed',
    },
    run: v2.evaluateFolder,
  },
  nnUNetv2_evaluate_simple: {
    does: 'evaluates a prediction folder for the labels given into v2\'s summary.json',
    flags: {
      gt_folder: 'reference segmentations', pred_folder: 'predictions (same file names)', '-l': 'the labels to evaluate', '-il': 'the ignore label',
      '-o': 'output file (default: pred_folder/summary.json)', '-np': 'parallel cases (at most 4)', '--chill': 'references without a prediction are allowed',
    },
    run: v2.evaluateSimple,
  },
  nnUNetv2_move_plans_between_datasets: {
    does: 'copies a dataset\'s v2 plans to another dataset (dataset name, plans name, data identifiers, image reader/writer adjusted)',
    flags: { '-s': 'source dataset id or name', '-t': 'target dataset id or name', '-sp': 'source plans name', '-tp': 'target plans name (default: -sp)' },
    run: v2.movePlansBetweenDatasets,
  },
  nnUNetv2_plot_overlay_pngs: {
    does: 'with --use_raw: `nnunet plot-task-pngs --use-raw` (a PNG per training case, labels overlaid at 0.6); without it v2 plots its own preprocessed data, which is not available yet',
    flags: {
      '-d': '--task', '-o': '--output', '-channel_idx': '--modality', '--use_raw': '--use-raw (required here)', '-np': NP_IGNORED,
      '-p': 'only without --use_raw (not available)', '-c': 'only without --use_raw (not available)', '-overlay_intensity': 'only 0.6 (nnU-Net\'s default) is available',
    },
    run: plotOverlayPngs,
  },
  nnUNetv2_extract_fingerprint: {
    does: 'v2\'s DatasetFingerprintExtractor (activities/fingerprint/v2, bit-identical to nnunetv2) -> nnUNet_preprocessed/DatasetXXX/dataset_fingerprint.json; as v2, an existing fingerprint is kept unless --clean',
    flags: {
      '-d': 'dataset ids', '-fpe': 'DatasetFingerprintExtractor (the only one)', '-np': 'worker threads (at most the machine\'s cores)',
      '--verify_dataset_integrity': 'verifies each Dataset folder (`nnunet verify`) first', '--clean': 'recompute an existing fingerprint', ...LOGGING,
    },
    run: pipeline.extractFingerprint,
  },
  nnUNetv2_preprocess: {
    does: 'v2\'s DefaultPreprocessor (activities/preprocessing/v2, bit-identical to nnunetv2) for each -c configuration the plans hold (others are skipped, as v2) -> nnUNet_preprocessed/DatasetXXX/DATA_IDENTIFIER/<case>.npz + .json, then the labels into gt_segmentations',
    flags: {
      '-d': 'dataset ids', '-plans_name': 'the plans file nnUNet_preprocessed/DatasetXXX/PLANS_NAME.json', '-c': 'configurations (default 2d 3d_fullres 3d_lowres)',
      '-np': 'worker threads: one value, or one per configuration (default 8, 3d_fullres 4; at most the machine\'s cores)', ...LOGGING,
    },
    run: pipeline.preprocess,
  },
  nnUNetv2_plan_and_preprocess: {
    does: 'nnUNetv2_extract_fingerprint, nnUNetv2_plan_experiment (also copies dataset.json to nnUNet_preprocessed/DatasetXXX), then (unless --no_pp) nnUNetv2_preprocess with the plans just written',
    flags: {
      '-d': 'dataset ids', '-fpe': 'as nnUNetv2_extract_fingerprint', '-npfp': 'fingerprint worker threads', '--verify_dataset_integrity': 'verifies each Dataset folder (`nnunet verify`) first',
      '--no_pp': 'plan only', '--clean': 'recompute an existing fingerprint', '-pl': 'as nnUNetv2_plan_experiment',
      '-gpu_memory_target': 'as nnUNetv2_plan_experiment', '-preprocessor_name': 'as nnUNetv2_plan_experiment (only DefaultPreprocessor preprocesses)', '-overwrite_target_spacing': 'as nnUNetv2_plan_experiment',
      '-overwrite_plans_name': 'as nnUNetv2_plan_experiment', '-c': 'configurations to preprocess', '-np': 'as nnUNetv2_preprocess', ...LOGGING,
    },
    run: pipeline.planAndPreprocess,
  },
  nnUNetv2_train: {
    does: 'trains one fold with nnU-Net v2\'s trainer as its own durable workflow (nnunet-v2-fold-<Dataset>-<TRAINER>__<PLANS>__<CONFIGURATION>-<fold>; a second call for a running fold attaches, a crash resumes from the newest checkpoint) into nnUNet_results/DatasetXXX/TRAINER__PLANS__CONFIGURATION/fold_X (checkpoint_final.pth in v2\'s format), then validates it as v2: fold_X/validation/<case> + summary.json against gt_segmentations. In this process instead: nnunet train --method v2',
    flags: {
      '-tr': 'nnUNetTrainer or a parameter-only variant (nnUNetTrainer_Xepochs, NoDeepSupervision, CELoss, DiceCELoss_noSmooth, NoDA, NoMirroring, onlyMirror01)', '-p': 'plans name',
      '--c': 'continue from checkpoint_final, _latest or _best (a finished, validated fold returns at once); without it the fold starts over', '-device': 'accepted; the backend is the config\'s worker.backend (NNUNET_BACKEND)',
      '--npz': 'the validation also writes <case>.npz (probabilities) + <case>.pkl', '-pretrained_weights': 'a v2 checkpoint: its weights but the segmentation heads, for a fold starting at epoch 0', '--val': 'only validate the trained fold (checkpoint_final.pth)',
      '--val_best': 'validate with checkpoint_best.pth', '--disable_checkpointing': 'no checkpoint files (the fold cannot be continued)', '-num_gpus': 'only 1 (more: exit 2)',
    },
    run: trainV2,
  },
  nnUNetv2_train_pretrained: { does: 'not available', run: missing('nnssl pretrained checkpoints (their adaptation plans and weight layout)', 'nnUNetv2_train DATASET CONFIGURATION FOLD -pretrained_weights CHECKPOINT (a v2 checkpoint), or nnUNet_train ... -pretrained_weights FILE (v1)') },
  nnUNetv2_predict: {
    does: 'nnUNetPredictor.predict_from_files with nnUNet_results/DatasetXXX/TR__P__C: v2 preprocessing of each raw case, sliding window (float16 accumulators as v2), export resampled back to the raw image (PlainConvUNet, ResidualEncoderUNet)',
    flags: {
      '-d': 'dataset id or name (found in nnUNet_raw, nnUNet_preprocessed or nnUNet_results)', '-tr': 'trainer', '-p': 'plans identifier', '-c': 'configuration',
      ...PREDICT_FLAGS, '-num_parts': 'split the cases into parts (every num_parts-th case)', '-part_id': 'which part this call predicts',
    },
    run: predictV2.predict,
  },
  nnUNetv2_predict_from_modelfolder: {
    does: 'as nnUNetv2_predict, with the model folder given by -m (e.g. an nnunetv2 model folder or an installed pretrained one)',
    flags: {
      '-m': 'the model folder (TRAINER__PLANS__CONFIGURATION with plans.json, dataset.json, fold_X/)',
      ...PREDICT_FLAGS,
    },
    run: predictV2.predictFromModelFolder,
  },
  nnUNetv2_find_best_configuration: {
    does: 'v2\'s find_best_configuration: accumulates each trained TR__P__C\'s folds, ensembles every pair (validation --npz probabilities) into ensembles/, picks the best foreground Dice, determines its postprocessing, writes inference_information.json and inference_instructions.txt',
    flags: {
      '-p': 'plans identifiers', '-c': 'configurations (those missing from the plans are skipped)', '-tr': 'trainers', '-np': NP_IGNORED, '-f': 'folds',
      '--disable_ensembling': 'no ensembles', '--no_overwrite': 'accepted; every step is redone (v2 also redoes most)',
    },
    run: v2.findBestConfiguration,
  },
  nnUNetv2_accumulate_crossval_results: {
    does: 'copies the folds\' validation/<case> of nnUNet_results/DatasetXXX/TR__P__C into crossval_results_folds_0_1_2_3_4 (emptied first) with dataset.json and plans.json, then summary.json against nnUNet_raw labelsTr (else gt_segmentations)',
    flags: { '-c': 'configuration', '-o': 'output folder (default: in the model folder)', '-f': 'folds (each needs fold_X/validation)', '-p': 'plans identifier', '-tr': 'trainer' },
    run: v2.accumulateCrossvalResults,
  },
  nnUNetv2_determine_postprocessing: {
    does: 'v2\'s determine_postprocessing: keep the largest foreground component, then per label, each kept when the Dice rises; writes postprocessing.pkl, postprocessing.json and postprocessed/ in the input folder',
    flags: {
      '-i': 'predictions (e.g. crossval_results_folds_0_1_2_3_4)', '-ref': 'reference segmentations', '-plans_json': 'plans file (default: input/plans.json)',
      '-dataset_json': 'dataset.json (default: input/dataset.json)', '-np': NP_IGNORED, '--remove_postprocessed': 'remove postprocessed/ at the end',
    },
    run: v2.determinePostprocessing,
  },
  nnUNetv2_apply_postprocessing: {
    does: 'applies a v2 postprocessing.pkl (remove_all_but_largest_component_from_segmentation steps, full connectivity) to every NIfTI file of a folder',
    flags: {
      '-i': 'input folder', '-o': 'output folder', '-pp_pkl_file': 'v2\'s postprocessing.pkl', '-np': NP_IGNORED,
      '-plans_json': 'plans file (default: input_folder/plans.json; must name a NIfTI reader/writer)', '-dataset_json': 'dataset.json (default: input_folder/dataset.json): file_ending',
    },
    run: v2.applyPostprocessing,
  },
  nnUNetv2_ensemble: {
    does: 'v2\'s ensemble_folders: averages each case\'s <case>.npz probabilities over the folders (nnUNetv2_predict --save_probabilities, validation --npz) and writes <case><file_ending> with the first folder\'s <case>.pkl geometry',
    flags: { '-i': 'the folders (each with the same <case>.npz files and dataset.json in the first)', '-o': 'output folder', '-np': NP_IGNORED, '--save_npz': 'also the averaged <case>.npz (+ <case>.pkl holding the array, as v2)' },
    run: v2.ensembleFolders,
  },
  nnUNetv2_export_model_to_zip: {
    does: 'zips a v2 model folder tree (nnUNet_results/DatasetXXX/TRAINER__PLANS__CONFIGURATION, e.g. one trained by nnunetv2) as v2 does: checkpoints, debug.json, progress.png, validation summary, plans, dataset.json, fingerprint, crossval results, matching ensembles, inference_information',
    flags: {
      '-d': 'dataset id or name', '-o': 'the zip file', '-c': 'configurations', '-tr': 'trainer', '-p': 'plans identifier', '-f': 'folds (fold_X folders; all = fold_all)',
      '-chk': 'checkpoint files per fold', '--not_strict': 'skip configurations without a trained model (in v2 this flag has no effect: export is always strict)',
      '--exp_cv_preds': 'the validation predictions and the crossval_results_folds_* folder too',
    },
    run: v2.exportModelToZip,
  },
  nnUNetv2_install_pretrained_model_from_zip: {
    does: 'extracts a v2 model zip over nnUNet_results as v2 does, after checking every member (nothing outside a DatasetXXX_NAME folder, no "..", no links).',
    flags: { zip: 'the model zip' },
    run: v2.installFromZip,
  },
  nnUNetv2_download_pretrained_model_by_url: {
    does: 'downloads the zip (resumable, into nnUNet_results/.downloads), installs it as nnUNetv2_install_pretrained_model_from_zip, removes the zip',
    flags: { url: 'http(s) URL of a v2 model zip' },
    run: v2.downloadByUrl,
  },
  nnUNetv2_preprocess_like_nnssl: { does: 'not available', run: missing('nnssl pretraining support and v2 preprocessing', 'none yet') },
  nnUNetv2_plan_like_dynamic: { does: 'not available', run: missing('nnssl pretraining support and v2 planning from a checkpoint', 'nnUNetv2_plan_experiment for v2 plans from a fingerprint') },
};

/** nnUNetv2_plot_overlay_pngs --use_raw → nnunet plot-task-pngs --use-raw. */
async function plotOverlayPngs(prog: string, args: V2Args): Promise<void> {
  if (args.values.use_raw !== true) {
    throw new V2NotAvailable(`${prog}: without --use_raw, nnU-Net v2 plots its preprocessed data; ${V2_PREPROCESSED_PLOTS} are not available in nnunet-ts yet. Add --use_raw to plot the raw images`);
  }
  if (Number(args.values.overlay_intensity) !== 0.6) throw new V2NotAvailable(`${prog}: -overlay_intensity ${String(args.values.overlay_intensity)}: only nnU-Net's 0.6 is available here`);
  await runNnunet(prog, ['plot-task-pngs', '--task', String(args.values.d), '--output', String(args.values.o), '--modality', String(args.values.channel_idx), '--use-raw']);
}

/** Runs an `nnunet` command in this process, saying which on stderr as the v1 aliases do. */
async function runNnunet(prog: string, argv: string[]): Promise<void> {
  process.stderr.write(`${prog} → nnunet ${argv.join(' ')}\n`);
  const program = new Command('nnunet').option('--config <file>', 'YAML config file');
  registerAll(program);
  await program.parseAsync(argv, { from: 'user' });
}

/** argparse's usage, then what the command and each argument do in nnunet-ts. */
export function v2HelpText(prog: string): string {
  const parser = V2_PARSERS[prog];
  const entry = V2_ENTRIES[prog];
  const run = entry.run;
  const what = (key: string): string => entry.flags?.[key] ?? ('missing' in run ? '' : 'accepted');
  const lines = [v2UsageLine(prog, parser), ''];
  lines.push('missing' in run ? `${prog}: not available in nnunet-ts yet: it needs ${run.missing}. Instead: ${run.instead}.` : `${prog} (nnU-Net v2's command, run by nnunet-ts): ${entry.does}.`);
  if (parser.positionals.length > 0) lines.push('', 'positional arguments:', ...parser.positionals.map((p) => `  ${p.name.padEnd(44)} ${what(p.name)}`.trimEnd()));
  lines.push('', 'options:', `  ${'-h, --help'.padEnd(44)} show this help message and exit`);
  for (const o of parser.options) lines.push(`  ${v2OptionLabel(o).padEnd(44)} ${what(o.names[0])}`.trimEnd());
  return lines.join('\n');
}

/** Parses as v2 does, then runs the command or says what is missing (exit 2). */
export async function runV2Alias(prog: string, argv: string[], config?: Config): Promise<void> {
  const parser = V2_PARSERS[prog];
  const entry = V2_ENTRIES[prog];
  if (!parser || !entry) throw new UsageError(`unknown nnU-Net v2 command ${prog}; known: ${Object.keys(V2_ENTRIES).join(', ')}`);
  if (argv.some((a) => a === '-h' || a === '--help')) {
    console.log(v2HelpText(prog));
    return;
  }
  const args = parseV2Args(prog, parser, argv);
  if ('missing' in entry.run) {
    throw new V2NotAvailable(`${prog}: not available in nnunet-ts yet: it needs ${entry.run.missing}. What works instead: ${entry.run.instead}`);
  }
  await entry.run(prog, args, config ?? loadConfig());
}

/** Entry point of the bin shims. */
export function v2AliasMain(prog: string): void {
  runV2Alias(prog, process.argv.slice(2)).then(() => {
    if (process.exitCode === undefined) process.exitCode = 0;
  }).catch((err: unknown) => {
    const message = (err as Error).message ?? String(err);
    console.error(message.startsWith(prog) || message.startsWith('usage:') ? message : `${prog}: ${message}`);
    process.exit(typeof (err as { exitCode?: number }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1);
  });
}
