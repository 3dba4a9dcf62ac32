/**
 * `nnunet move-to-v2 -t TASK [-d DatasetXXX_Name] [--force]`: an nnunet-ts v1 task's trained models and
 * cross-validation results placed into nnU-Net v2's tree (nnUNet_raw, nnUNet_preprocessed, nnUNet_results), so that
 * nnUNetv2_predict, nnUNetv2_predict_from_modelfolder, accumulate_crossval_results and find_best_configuration find
 * them; the v1 tree is left as it is (activities/io/move-to-v2.ts, docs/interop.md). Its own command rather than an
 * option of nnUNetv2_convert_old_nnUNet_dataset, which keeps v2's arguments and, as in v2, converts raw data only.
 */
import type { Command } from 'commander';
import { moveTaskToV2 } from '../../activities/io/move-to-v2';
import { configFor, printJson, UsageError } from '../context';
import { resolveTask } from '../task-ref';

interface MoveOpts { task: string; dataset?: string; force?: boolean; json?: boolean }

/** Task004_Hippocampus → Dataset004_Hippocampus. */
function defaultDatasetName(taskName: string): string {
  const m = /^Task(\d+)_(.+)$/.exec(taskName);
  if (!m || Number(m[1]) > 999) throw new UsageError(`${taskName}: not a TaskXXX_Name folder; name the v2 dataset with -d DatasetXXX_Name`);
  return `Dataset${m[1]!.padStart(3, '0').slice(-3)}_${m[2]}`;
}

export function register(program: Command): void {
  program
    .command('move-to-v2')
    .description('place a v1 task\'s trained models and cross-validation results into nnU-Net v2\'s tree (v1 files are linked, not moved)')
    .requiredOption('-t, --task <task>', 'the v1 task (id, TaskXXX_Name or its folder)')
    .option('-d, --dataset <name>', 'the v2 dataset name (default: TaskXXX_Name -> DatasetXXX_Name)')
    .option('--force', 'replace v2 model folders of the same name')
    .option('--json', 'print the result as JSON')
    .action(async (opts: MoveOpts, cmd: Command) => {
      const config = configFor(cmd);
      const task = resolveTask(config, opts.task).paths;
      if (!task.taskName.startsWith('Task')) throw new UsageError(`${task.taskName} is already a v2 dataset; move-to-v2 takes a v1 TaskXXX_Name`);
      const r = await moveTaskToV2({
        task, datasetName: opts.dataset ?? defaultDatasetName(task.taskName), force: opts.force,
        rawRoot: config.paths.raw ?? config.paths.rawDataBase, preprocessedRoot: config.paths.preprocessed, resultsRoot: config.paths.results,
      });
      if (opts.json) return printJson(r);
      console.log(`${r.rawDir}: ${r.rawConverted ? 'converted from the v1 task' : 'kept (it existed)'}; ${r.preprocessedDir}: dataset.json, gt_segmentations, splits`);
      for (const m of r.models) console.log(`${m.from} -> ${m.to} (${m.folds.join(' ')}; ${m.validationCases} validation case(s))`);
      console.log('These are nnU-Net v1 networks: nnunet-ts\'s nnUNetv2_predict predicts them with the v1 method; nnunetv2 itself cannot load them.');
    });
}
