/**
 * `npm run bench -- inference [--slices 64] [--extrapolate 200,500] [--skip-large] [--skip-demo] [--probe-tiles 1]`: time per
 * case of nnU-Net prediction (preprocessing, sliding window with Gaussian weighting, export on the raw grid) with
 * and without mirroring TTA, and peak RSS, each run in its own child process, with an untrained network of the
 * plan's architecture (forward time does not depend on the weights):
 *  - the demo task's test cases with its 3d_fullres plan;
 *  - one synthetic CT-sized volume (512 x 512 x `--slices` at 0.8 x 0.8 x 2.5 mm) with the 3d_fullres plan the
 *    planner makes for a dataset of such volumes (a synthetic fingerprint). The case runs without mirroring;
 *    a mirrored tile (8 passes) is timed after it (`--probe-tiles`) and TTA time estimated from it, as is the time for
 *    more slices from the tile counts (each such row says so).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeJsonAtomic } from '../activities/common/atomic';
import { geometryFromArraySpacing } from '../activities/io/geometry';
import { writeNiftiSync } from '../activities/io/nifti';
import { mulberry32 } from '../activities/io/demo';
import { computeSteps, paddingForPatch } from '../activities/inference/sliding-window';
import { readDatasetProperties } from '../activities/planning/fingerprint';
import { writePlansFile } from '../activities/planning/plans-file';
import { getPlanner } from '../activities/planning/registry';
import { stages } from '../activities/planning/plans';
import type { PredictOutput } from './job-runner';
import { benchDir } from './demo-plan';
import { machineLine, mb, runJob, table } from './child';
import { demoDataset, plannedDataset } from './datasets';
import { datasetPropertiesFile, plansFile } from '../activities/io/layout';
import { PLANS_IDENTIFIER_V21 } from '../activities/planning/constants';

const CT_SPACING: [number, number, number] = [2.5, 0.8, 0.8]; // array order z, y, x (mm)
const CT_INPLANE = 512;
/** Slices per case in the synthetic dataset the large volume's plan is made for. */
const CT_DATASET_SLICES = 200;

type Run = PredictOutput & { seconds: number; peakRssBytes: number; tta: boolean };

/** Channel files of each test case in imagesTs, grouped by case id, modality order. */
function testCases(rawDir: string): string[][] {
  const dir = path.join(rawDir, 'imagesTs');
  const byCase = new Map<string, string[]>();
  for (const f of fs.readdirSync(dir).filter((n) => /_\d{4}\.nii(\.gz)?$/.test(n)).sort()) {
    const id = f.replace(/_\d{4}\.nii(\.gz)?$/, '');
    byCase.set(id, [...(byCase.get(id) ?? []), path.join(dir, f)]);
  }
  return [...byCase.values()];
}

/** dataset_properties of ten CT cases of 512 x 512 x 200 at 0.8 x 0.8 x 2.5 mm, two foreground classes. */
function ctFingerprint(): object {
  const ids = Array.from({ length: 10 }, (_, i) => `ct_${String(i).padStart(3, '0')}`);
  return {
    all_spacings: ids.map(() => CT_SPACING),
    all_sizes: ids.map(() => [CT_DATASET_SLICES, CT_INPLANE, CT_INPLANE]),
    modalities: { 0: 'CT' },
    all_classes: [1, 2],
    size_reductions: Object.fromEntries(ids.map((id) => [id, 1])),
    intensityproperties: { 0: { median: 60, mean: 55, sd: 50, mn: -1000, mx: 3000, percentile_99_5: 260, percentile_00_5: -120, local_props: {} } },
  };
}

/** A body-like int16 CT: air outside an elliptic body, soft tissue with noise, a bright spine. */
function writeSyntheticCt(file: string, slices: number): void {
  const n = slices * CT_INPLANE * CT_INPLANE;
  const data = new Int16Array(n).fill(-1000);
  const rand = mulberry32(7);
  const c = CT_INPLANE / 2;
  for (let z = 0; z < slices; z++) {
    for (let y = 0; y < CT_INPLANE; y++) {
      const row = (z * CT_INPLANE + y) * CT_INPLANE;
      for (let x = 0; x < CT_INPLANE; x++) {
        const body = ((x - c) / 220) ** 2 + ((y - c) / 160) ** 2;
        if (body > 1) continue;
        const spine = (x - c) ** 2 + (y - c - 100) ** 2 < 30 ** 2;
        data[row + x] = spine ? 700 + Math.round(rand() * 100) : 40 + Math.round((rand() - 0.5) * 60);
      }
    }
  }
  writeNiftiSync(file, { data, shape: [slices, CT_INPLANE, CT_INPLANE], dtype: 'int16', geometry: geometryFromArraySpacing(CT_SPACING) });
}

/** The 3d_fullres plan nnU-Net's v2.1 planner makes for the CT dataset, written as a plans file. */
function ctPlansFile(dir: string): string {
  const fingerprintFile = datasetPropertiesFile(dir);
  writeJsonAtomic(fingerprintFile, ctFingerprint());
  const plans = getPlanner('ExperimentPlanner3D_v21').plan(readDatasetProperties(fingerprintFile), { preprocessedDir: dir });
  const file = plansFile({ preprocessedDir: dir }, PLANS_IDENTIFIER_V21, '3d');
  writePlansFile(file, plans);
  return file;
}

function predict(plansFile: string, cases: string[][], tta: boolean, probeTiles = 0): Run {
  const r = runJob({ kind: 'predict', plansFile, configuration: '3d_fullres', tta, threads: os.availableParallelism(), cases, probeTiles });
  return { ...r, tta };
}

function tilesFor(shape: number[], patch: number[]): number {
  return computeSteps(patch, paddingForPatch(shape, patch).paddedShape, 0.5).reduce((a, s) => a * s.length, 1);
}

export async function benchInference(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      slices: { type: 'string', default: '64' }, extrapolate: { type: 'string', default: '200,500' },
      'probe-tiles': { type: 'string', default: '1' }, 'skip-large': { type: 'boolean', default: false },
      'skip-demo': { type: 'boolean', default: false },
    },
  });
  fs.mkdirSync(benchDir(), { recursive: true });
  console.log(`bench inference: ${machineLine()}; one fold, untrained network, step size 0.5, Gaussian weighting`);
  const rows: string[][] = [['volume', 'patch', 'TTA', 'tiles/case', 's/case', 'peak RSS', 'how']];

  if (!values['skip-demo']) {
    const { plansFiles } = await plannedDataset(await demoDataset());
    const cases = testCases((await demoDataset()).rawDir);
    for (const tta of [false, true]) {
      const r = predict(plansFiles['3d']!, cases, tta);
      const per = r.cases.map((c) => c.seconds);
      console.log(`  demo TTA ${tta ? 'on' : 'off'}: ${per.map((s) => s.toFixed(2)).join(', ')} s per case (${r.backend}), peak RSS ${mb(r.peakRssBytes)}`);
      rows.push([`demo ${r.cases.map((c) => c.shape.join('x')).join(', ')}`, r.patchSize.join('x'), tta ? 'on' : 'off',
        r.cases.map((c) => c.tiles).join(', '), per.map((s) => s.toFixed(2)).join(', '), mb(r.peakRssBytes), 'measured']);
    }
  }

  if (!values['skip-large']) {
    const slices = Number(values.slices);
    const dir = fs.mkdtempSync(path.join(benchDir(), 'ct-'));
    try {
      const plansFile = ctPlansFile(dir);
      const stage = stages(JSON.parse(fs.readFileSync(plansFile, 'utf8'))).at(-1)!;
      console.log(`  CT plan (${CT_INPLANE}x${CT_INPLANE}x${CT_DATASET_SLICES} dataset): 3d_fullres patch ${stage.patch_size.join('x')}, spacing ${stage.current_spacing.join('x')}`);
      const image = path.join(dir, 'ct_0000.nii');
      writeSyntheticCt(image, slices);
      const r = predict(plansFile, [[image]], false, Number(values['probe-tiles']));
      const c = r.cases[0]!;
      const mirroredTile = r.probe!.secondsPerTileMirrored;
      // Everything in the case (preprocessing, network, aggregation, export) per tile: the plain cost of a tile.
      const plainTile = c.seconds / c.tiles;
      const label = (z: number): string => `CT ${CT_INPLANE}x${CT_INPLANE}x${z}`;
      console.log(`  ${label(slices)} TTA off: ${c.seconds.toFixed(1)} s, ${c.tiles} tiles (${plainTile.toFixed(1)} s/tile), ` +
        `peak RSS ${mb(r.peakRssBytesCases)}; one mirrored tile (8 passes) ${mirroredTile.toFixed(1)} s, peak RSS with it ${mb(r.peakRssBytes)}`);
      rows.push([label(slices), r.patchSize.join('x'), 'off', String(c.tiles), c.seconds.toFixed(1), mb(r.peakRssBytesCases), 'measured']);
      // Mirroring adds 7 passes per tile, each an eighth of the measured mirrored tile.
      const ttaCase = (tiles: number): number => tiles * (plainTile + (7 / 8) * mirroredTile);
      rows.push([label(slices), r.patchSize.join('x'), 'on', String(c.tiles), ttaCase(c.tiles).toFixed(0), mb(r.peakRssBytes),
        'estimated: measured off + tiles x 7/8 mirrored tile']);
      // Other slice counts: time scales with the number of tiles (computed as the sliding window would).
      for (const z of values.extrapolate.split(',').map(Number).filter((z) => z > 0 && z !== slices)) {
        const tiles = tilesFor([z, CT_INPLANE, CT_INPLANE], r.patchSize);
        rows.push([label(z), r.patchSize.join('x'), 'off', String(tiles), (tiles * plainTile).toFixed(0), '-', `extrapolated: tiles x ${plainTile.toFixed(1)} s`]);
        rows.push([label(z), r.patchSize.join('x'), 'on', String(tiles), ttaCase(tiles).toFixed(0), '-', `extrapolated: tiles x (${plainTile.toFixed(1)} + 7/8 x ${mirroredTile.toFixed(1)}) s`]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n${table(rows)}\nafter: load average ${machineLine().split('load average ')[1]}`);
}
