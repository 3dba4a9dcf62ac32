/**
 * `nnunet pretrained list|info|download|download-url|install|export`: nnU-Net v1's pretrained-model commands
 * (nnUNet_print_available_pretrained_models, nnUNet_print_pretrained_model_info, nnUNet_download_pretrained_model,
 * nnUNet_download_pretrained_model_by_url, nnUNet_install_pretrained_model_from_zip, nnUNet_export_model_to_zip).
 * Models install into RESULTS_FOLDER/nnUNet; see docs/interop.md, "Model zips and the pretrained catalog".
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { CONFIGURATIONS, FOLDS, type Configuration, type Fold, type TaskPaths } from '../../activities/contract';
import { CASCADE_TRAINER, checkpointFile, DEFAULT_CHECKPOINT, DEFAULT_TRAINER, downloadedZipFile, foldFolder, modelFolder, networkTrainingOutputFolder, trainerFor } from '../../activities/io/layout';
import { PLANS_IDENTIFIER_V21 } from '../../activities/planning/constants';
import type { Config } from '../../config';
import { configFor, printJson, UsageError } from '../context';
import { collect, parseConfiguration, parseFold } from '../options';
import { resolveTask } from '../task-ref';

const LICENSE_WARNING = [
  '######################################################',
  '!!!!!!!!!!!!!!!!!!!!!!!!WARNING!!!!!!!!!!!!!!!!!!!!!!!',
  '######################################################',
  'Using the pretrained model weights is subject to the license of the dataset they were trained on. Some allow '
    + "commercial use, others don't. It is your responsibility to make sure you use them appropriately! Use "
    + 'nnUNet_print_pretrained_model_info TASK to see a summary of the dataset and where to find its license!',
  '######################################################',
].join('\n');

interface OverwriteOpts { overwrite?: boolean; json?: boolean }

async function catalogEntry(task: string) {
  const { pretrainedModel, PRETRAINED_MODELS } = await import('../../activities/io/pretrained-catalog');
  const entry = pretrainedModel(task);
  if (!entry) {
    throw new UsageError(`${task}: no such pretrained model (known: ${PRETRAINED_MODELS.map((m) => m.task).join(', ')}); see nnUNet_print_available_pretrained_models`);
  }
  return entry;
}

async function install(zip: string, config: Config, opts: OverwriteOpts): Promise<void> {
  const { installModelZip } = await import('../../activities/io/model-zip');
  const root = networkTrainingOutputFolder(config.paths.results);
  const r = installModelZip(zip, root, { overwrite: opts.overwrite });
  if (opts.json) return printJson({ zip, root, ...r });
  for (const u of r.installed) console.log(`${r.replaced.includes(u) ? 'replaced' : 'installed'} ${path.join(root, u)}`);
  console.log(`${r.files} files from ${zip}`);
}

/** A byte progress bar on a terminal, a line per 10% otherwise. */
function progress(label: string): { update: (received: number, total: number | undefined) => void; stop: () => void } {
  const mb = (n: number) => Math.round(n / 1e5) / 10;
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} MB`, stream: process.stderr }, Presets.shades_classic);
    let started = false;
    return {
      update: (received, total) => {
        if (!started) { bar.start(mb(total ?? received), 0); started = true; }
        if (total === undefined) bar.setTotal(mb(received));
        bar.update(mb(received));
      },
      stop: () => bar.stop(),
    };
  }
  let lastTenth = -1;
  return {
    update: (received, total) => {
      const tenth = total ? Math.floor((10 * received) / total) : -1;
      if (tenth > lastTenth) { lastTenth = tenth; process.stderr.write(`${label}: ${mb(received)} of ${total ? mb(total) : '?'} MB\n`); }
    },
    stop: () => undefined,
  };
}

/** nnU-Net's download_and_install_from_url: download (resumable, into RESULTS_FOLDER/nnUNet/.downloads), then install. */
async function downloadAndInstall(url: string, config: Config, opts: OverwriteOpts & { sha256?: string }): Promise<void> {
  const { downloadFile } = await import('../../activities/io/download');
  const base = path.basename(new URL(url).pathname) || 'model.zip';
  const target = downloadedZipFile(config.paths.results, `${createHash('sha256').update(url).digest('hex').slice(0, 8)}-${base}`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (fs.existsSync(target)) {
    console.error(`already downloaded: ${target}`);
  } else {
    console.error(`Downloading pretrained model from url: ${url}`);
    const bar = progress(base);
    try {
      await downloadFile(url, target, { sha256: opts.sha256, onProgress: bar.update });
    } finally {
      bar.stop();
    }
    console.error('Download finished. Extracting...');
  }
  await install(target, config, opts);
  fs.rmSync(target, { force: true });
}

interface ExportOpts { task: string; output: string; models?: Configuration[]; trainer?: string; cascadeTrainer?: string; plans?: string; folds?: string[]; disableStrict?: boolean; json?: boolean }

export function register(program: Command): void {
  const group = program.command('pretrained').description("nnU-Net's pretrained models and model zips: list, info, download, download-url, install, export");
  group.command('list')
    .description("nnU-Net v1's published pretrained models (nnUNet_print_available_pretrained_models)")
    .option('--export <dir>', 'also write the table as DIR/available_models.json')
    .option('--json', 'print the table as JSON')
    .action(async (opts: { export?: string; json?: boolean }) => {
      const { PRETRAINED_MODELS } = await import('../../activities/io/pretrained-catalog');
      const table = Object.fromEntries(PRETRAINED_MODELS.map((m) => [m.task, { description: m.description, url: m.urls.length === 1 ? m.urls[0] : m.urls }]));
      if (opts.json) printJson(table);
      else console.log(`The following pretrained models are available:\n${PRETRAINED_MODELS.map((m) => `\n${m.task}\n${m.description}`).join('\n')}`);
      if (opts.export) {
        if (!fs.existsSync(opts.export) || !fs.statSync(opts.export).isDirectory()) throw new UsageError(`--export ${opts.export}: not a folder; please specify a folder path`);
        fs.writeFileSync(path.join(opts.export, 'available_models.json'), JSON.stringify(table, null, 1));
        console.error(`Data successfully exported to ${path.join(opts.export, 'available_models.json')}`);
      }
    });
  group.command('info <task>')
    .description('what a pretrained model segments and which input channels it needs (nnUNet_print_pretrained_model_info)')
    .action(async (task: string) => {
      const entry = await catalogEntry(task);
      console.log(`${entry.description}\n${entry.urls.map((u) => `url: ${u}`).join('\n')}`);
    });
  group.command('download <task>')
    .description('download a pretrained model of the catalog and install it into RESULTS_FOLDER/nnUNet (nnUNet_download_pretrained_model)')
    .option('--overwrite', 'replace model folders that are already installed')
    .option('--json', 'print what was installed as JSON')
    .action(async (task: string, opts: OverwriteOpts, cmd: Command) => {
      const entry = await catalogEntry(task);
      console.error(`\n${LICENSE_WARNING}\n`);
      const config = configFor(cmd);
      for (const url of entry.urls) await downloadAndInstall(url, config, { ...opts, sha256: entry.sha256?.[url] });
    });
  group.command('download-url <url>')
    .description('download a model zip from a URL and install it (nnUNet_download_pretrained_model_by_url)')
    .option('--sha256 <hex>', 'expected SHA-256 of the zip; a mismatch deletes the download')
    .option('--overwrite', 'replace model folders that are already installed')
    .option('--json', 'print what was installed as JSON')
    .action(async (url: string, opts: OverwriteOpts & { sha256?: string }, cmd: Command) => {
      if (opts.sha256 && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) throw new UsageError(`--sha256 ${opts.sha256}: expected 64 hex digits`);
      await downloadAndInstall(url, configFor(cmd), opts);
    });
  group.command('install <zip>')
    .description('unzip a model zip into RESULTS_FOLDER/nnUNet (nnUNet_install_pretrained_model_from_zip)')
    .option('--overwrite', 'replace model folders that are already installed')
    .option('--json', 'print what was installed as JSON')
    .action(async (zip: string, opts: OverwriteOpts, cmd: Command) => install(zip, configFor(cmd), opts));
  group.command('export')
    .description("a task's trained models as a zip in nnU-Net's layout (nnUNet_export_model_to_zip)")
    .requiredOption('-t, --task <task>', 'task id or name')
    .requiredOption('-o, --output <file>', 'the zip to write (should end with .zip)')
    .option('-m, --models <configurations...>', `configurations (default: ${CONFIGURATIONS.join(' ')})`, collect(parseConfiguration))
    .option('--trainer <name>', `trainer of 2d, 3d_lowres and 3d_fullres (default ${DEFAULT_TRAINER})`)
    .option('--cascade-trainer <name>', `trainer of 3d_cascade_fullres (default ${CASCADE_TRAINER})`)
    .option('--plans <id>', `plans identifier (default ${PLANS_IDENTIFIER_V21})`)
    .option('-f, --folds <folds...>', 'folds (default 0 1 2 3 4)')
    .option('--disable-strict', 'skip missing configurations and postprocessing.json instead of failing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: ExportOpts, cmd: Command) => {
      const { exportModelZip } = await import('../../activities/io/model-zip');
      const { paths } = resolveTask(configFor(cmd), opts.task);
      const configurations = opts.models ?? ['2d', '3d_lowres', '3d_fullres', '3d_cascade_fullres'];
      const trainerOf = (c: Configuration) => trainerFor(c, opts.trainer ?? DEFAULT_TRAINER, opts.cascadeTrainer ?? CASCADE_TRAINER);
      const plans = opts.plans ?? PLANS_IDENTIFIER_V21;
      const folds = (opts.folds ?? FOLDS.map(String)).map(parseFold);
      const staging = await nnunetCopiesOfOurFolds(paths, configurations, trainerOf, plans, folds);
      let r;
      try {
        r = exportModelZip({
          paths, output: path.resolve(opts.output), configurations, trainer: opts.trainer ?? DEFAULT_TRAINER,
          cascadeTrainer: opts.cascadeTrainer ?? CASCADE_TRAINER, plans, folds, strict: !opts.disableStrict,
          ...(staging ? { nnunetCopies: networkTrainingOutputFolder(staging) } : {}),
        });
      } finally {
        if (staging) fs.rmSync(staging, { recursive: true, force: true });
      }
      for (const w of r.warnings) console.error(`WARNING: ${w}`);
      if (opts.json) printJson(r);
      else console.log(`${r.files.length} files -> ${r.output}`);
    });
}

/**
 * Folds trained here hold our checkpoint format, which nnU-Net v1 cannot load: write nnU-Net-format copies of them
 * (torch .model, .model.pkl, plans.pkl, as `nnunet export-nnunet` does) into a private staging folder, so the zip
 * packs those instead. Returns the staging results root, or undefined when every fold is already nnU-Net's.
 */
async function nnunetCopiesOfOurFolds(
  paths: TaskPaths, configurations: Configuration[], trainerOf: (c: Configuration) => string, plans: string, folds: Fold[],
): Promise<string | undefined> {
  const { checkpointKindOf } = await import('../../activities/network/torch-weights');
  const isOurs = (file: string) => fs.existsSync(file) && checkpointKindOf(file) === 'nnunet-ts';
  let staging: string | undefined;
  for (const c of configurations) {
    const model = modelFolder(paths, c, trainerOf(c), plans);
    const ours = folds.filter((f) => isOurs(checkpointFile(foldFolder(model, f), DEFAULT_CHECKPOINT)));
    if (ours.length === 0) continue;
    const { exportNnunetModel } = await import('../../activities/inference/export-nnunet');
    staging ??= fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-export-'));
    exportNnunetModel({ paths, configuration: c, trainer: trainerOf(c), plansIdentifier: plans, outputRoot: staging, folds: ours });
  }
  return staging;
}
