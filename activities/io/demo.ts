/**
 * A synthetic nnU-Net v1 task for first runs and end-to-end tests: two modalities (CT in Hounsfield units, an
 * MR-like image with a bias field), labels background / organ / lesion (a lesion inside the organ), anisotropic
 * spacing (about 3 x 1 x 1 mm, array order z, y, x), case shapes varying around a base shape.
 * The default base shape (40, 48, 40) plans 2d and 3d_fullres; --large (100, 416, 416) is big enough that nnU-Net
 * v1's 3D planner adds a 3d_lowres stage (median / fullres patch >= 4 and the lowres median under half the fullres).
 * --regions writes the same voxels with a v2 dataset.json whose labels are nested regions (organ = labels {1, 2},
 * lesion = {2}) and regions_class_order; --ignore-label also marks some voxels as not annotated (label 3, named
 * "ignore"), as sparse annotation does: see demoLabelsJson.
 * Deterministic: the same seed gives the same bytes. Written atomically (temporary folder + rename).
 * Two more formats exercise the image reader/writer registry with an nnU-Net v2 dataset.json (file_ending):
 * `mha` is the same task in .mha files; `png` is a 2D natural-image task (one grayscale channel, the CT
 * window of one slice per case, as NaturalImage2DIO reads pictures).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic, writeJsonAtomic } from '../common/atomic';
import type { Geometry, Vec3 } from './geometry';
import { writeNifti } from './nifti';
import { rawTasksFolder } from './layout';
import { writeImageFile } from './image-formats/registry';

export interface DemoOptions {
  taskId: number;
  /** Training cases (default 20; 10 with large). */
  cases?: number;
  /** Test cases in imagesTs (default 2). */
  testCases?: number;
  seed?: number;
  large?: boolean;
  /** nifti (default, a v1 Task folder), mha (the same task as .mha) or png (a 2D natural-image task); the latter two with a v2 dataset.json. */
  format?: DemoFormat;
  /** v2 dataset.json with the labels as nested regions. */
  regions?: boolean;
  /** Also mark part of every training label map as not annotated (the "ignore" label, 3). */
  ignoreLabel?: boolean;
}

export const DEMO_FORMATS = ['nifti', 'mha', 'png'] as const;
export type DemoFormat = (typeof DEMO_FORMATS)[number];

/** The demo's ignore label: above the real labels, as nnU-Net requires. */
export const DEMO_IGNORE_LABEL = 3;

export interface DemoCaseSpec {
  id: string;
  split: 'train' | 'test';
  /** Array order (z, y, x). */
  shape: Vec3;
  /** Array order (z, y, x), mm. */
  spacing: Vec3;
  seed: number;
  /** float32 in the small task; int16 (as scanners store MR) in the large one, which keeps its files small. */
  mrDtype: 'float32' | 'int16';
}

export const DEMO_BASE_SHAPE: Vec3 = [40, 48, 40];
export const DEMO_LARGE_BASE_SHAPE: Vec3 = [100, 416, 416];
/** One slice of about 64 x 64 pixels: 2D planning and training stay quick. */
export const DEMO_2D_BASE_SHAPE: Vec3 = [1, 64, 64];

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; enough for synthetic data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples: a seeded table of Box-Muller values read at random offsets (fast, deterministic). */
function gaussian(rand: () => number): () => number {
  const table = new Float32Array(1 << 16);
  for (let i = 0; i < table.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    table[i] = r * Math.cos(t);
    table[i + 1] = r * Math.sin(t);
  }
  let state = (rand() * 4294967296) >>> 0 || 1;
  return () => {
    // xorshift32 picks the table entry
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    return table[(state >>> 0) & 0xffff];
  };
}

const FORMAT_SUFFIX: Record<DemoFormat, string> = { nifti: '', mha: 'Mha', png: '2dPng' };

function demoName(opts: DemoOptions): string {
  return `${opts.large ? 'DemoLarge' : 'Demo'}${FORMAT_SUFFIX[opts.format ?? 'nifti']}`;
}

export function demoTaskName(opts: DemoOptions): string {
  const suffix = `${opts.regions ? 'Regions' : ''}${opts.ignoreLabel ? 'Ignore' : ''}`;
  return `Task${String(opts.taskId).padStart(3, '0')}_${demoName(opts)}${suffix}`;
}

/** Every case's id, shape, spacing and seed: cheap, so planners and tests can reason about a demo without voxels. */
export function demoCaseSpecs(opts: DemoOptions): DemoCaseSpec[] {
  const seed = opts.seed ?? 0;
  const nTrain = opts.cases ?? (opts.large ? 10 : 20);
  const nTest = opts.testCases ?? 2;
  const twoD = opts.format === 'png';
  if (twoD && opts.large) throw new RangeError('the 2D demo has no large variant');
  const base = twoD ? DEMO_2D_BASE_SHAPE : opts.large ? DEMO_LARGE_BASE_SHAPE : DEMO_BASE_SHAPE;
  const rand = mulberry32(seed * 7919 + 17);
  const specs: DemoCaseSpec[] = [];
  for (let i = 0; i < nTrain + nTest; i++) {
    const jitter = opts.large ? 0.08 : 0.15;
    const shape = base.map((b) => (b === 1 ? 1 : Math.max(8, Math.round(b * (1 - jitter + 2 * jitter * rand()))))) as Vec3;
    // Slice thickness varies (2.5 / 3 / 3.5 mm) in the small task so that preprocessing resamples; in-plane 1 mm.
    const zSpacing = opts.large ? 3 : [2.5, 3, 3, 3.5][Math.floor(rand() * 4)];
    const train = i < nTrain;
    specs.push({
      id: train ? `demo_${String(i).padStart(3, '0')}` : `demo_test_${String(i - nTrain).padStart(3, '0')}`,
      split: train ? 'train' : 'test',
      shape,
      spacing: [twoD ? 1 : zSpacing, 1, 1],
      seed: (Math.floor(rand() * 2 ** 31) ^ (seed * 2654435761)) >>> 0,
      mrDtype: opts.large ? 'int16' : 'float32',
    });
  }
  return specs;
}

interface Ellipsoid { c: Vec3; r: Vec3 }

function inside(e: Ellipsoid, z: number, y: number, x: number): boolean {
  const dz = (z - e.c[0]) / e.r[0];
  const dy = (y - e.c[1]) / e.r[1];
  const dx = (x - e.c[2]) / e.r[2];
  return dz * dz + dy * dy + dx * dx <= 1;
}

export interface DemoCase { ct: Int16Array; mr: Float32Array | Int16Array; label: Uint8Array; geometry: Geometry; shape: Vec3 }

/** One case's voxels. Positions are in mm (array order) so structures keep their physical size across spacings. */
export function makeDemoCase(spec: DemoCaseSpec): DemoCase {
  const rand = mulberry32(spec.seed);
  const noise = gaussian(rand);
  const [nz, ny, nx] = spec.shape;
  const [sz, sy, sx] = spec.spacing;
  const ext: Vec3 = [nz * sz, ny * sy, nx * sx];
  const u = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const body: Ellipsoid = { c: [ext[0] / 2, ext[1] / 2, ext[2] / 2], r: [ext[0] * u(0.45, 0.55), ext[1] * u(0.38, 0.45), ext[2] * u(0.38, 0.45)] };
  const organ: Ellipsoid = {
    c: [ext[0] * u(0.4, 0.6), ext[1] * u(0.4, 0.55), ext[2] * u(0.35, 0.5)],
    r: [ext[0] * u(0.22, 0.3), ext[1] * u(0.2, 0.26), ext[2] * u(0.2, 0.26)],
  };
  const lr = u(0.4, 0.6);
  const lesion: Ellipsoid = {
    c: [organ.c[0] + organ.r[0] * u(-0.3, 0.3), organ.c[1] + organ.r[1] * u(-0.3, 0.3), organ.c[2] + organ.r[2] * u(-0.3, 0.3)],
    r: [organ.r[0] * lr, organ.r[1] * lr, organ.r[2] * lr],
  };
  // A "spine": a bright-on-CT cylinder along z, behind the organ.
  const spine = { y: ext[1] * u(0.68, 0.75), x: ext[2] * u(0.45, 0.55), r: Math.min(ext[1], ext[2]) * 0.07 };
  const n = nz * ny * nx;
  const ct = new Int16Array(n);
  const mr = spec.mrDtype === 'int16' ? new Int16Array(n) : new Float32Array(n);
  const label = new Uint8Array(n);
  const mrScale = u(0.8, 1.2);
  let i = 0;
  for (let z = 0; z < nz; z++) {
    const pz = (z + 0.5) * sz;
    for (let y = 0; y < ny; y++) {
      const py = (y + 0.5) * sy;
      for (let x = 0; x < nx; x++, i++) {
        const px = (x + 0.5) * sx;
        let hu = -1000; let sig = 0; let cls = 0;
        if (inside(body, pz, py, px)) {
          hu = 30; sig = 350;
          const dy = py - spine.y; const dx = px - spine.x;
          if (dy * dy + dx * dx <= spine.r * spine.r) { hu = 700; sig = 120; }
          if (inside(organ, pz, py, px)) {
            cls = 1; hu = 65; sig = 520;
            if (inside(lesion, pz, py, px)) { cls = 2; hu = 110; sig = 220; }
          }
        }
        const bias = 1 + 0.15 * (px / ext[2] - 0.5) + 0.1 * (pz / ext[0] - 0.5);
        ct[i] = Math.round(hu + 12 * noise());
        const m = Math.abs(sig * mrScale * bias + 18 * noise());
        mr[i] = spec.mrDtype === 'int16' ? Math.round(m) : m;
        label[i] = cls;
      }
    }
  }
  const geometry: Geometry = { spacing: [sx, sy, sz], origin: [-ext[2] / 2, -ext[1] / 2, -ext[0] / 2], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  return { ct, mr, label, geometry, shape: spec.shape };
}

/**
 * Sparse annotation: voxels in two of every three z-slices of the left half (x below the middle) are not annotated,
 * so each case keeps annotated organ and background voxels while a good part of the image counts nowhere.
 */
export function markIgnored(label: Uint8Array, shape: Vec3): void {
  const [nz, ny, nx] = shape;
  for (let z = 0; z < nz; z++) {
    if (z % 3 === 0) continue;
    for (let y = 0; y < ny; y++) label.fill(DEMO_IGNORE_LABEL, (z * ny + y) * nx, (z * ny + y) * nx + (nx >> 1));
  }
}

/** The labels part of dataset.json: v1's value → name map, or v2 regions (plus the ignore label). */
export function demoLabelsJson(opts: DemoOptions): Record<string, unknown> {
  if (!opts.regions && !opts.ignoreLabel) return { modality: { 0: 'CT', 1: 'MRI' }, labels: { 0: 'background', 1: 'organ', 2: 'lesion' } };
  const ignore = opts.ignoreLabel ? { ignore: DEMO_IGNORE_LABEL } : {};
  const labels = opts.regions ? { background: 0, organ: [1, 2], lesion: [2], ...ignore } : { background: 0, organ: 1, lesion: 2, ...ignore };
  return { channel_names: { 0: 'CT', 1: 'MRI' }, labels, ...(opts.regions ? { regions_class_order: [1, 2] } : {}), file_ending: '.nii.gz' };
}

export interface DemoResult { taskName: string; outDir: string; numTraining: number; numTest: number; medianShape: Vec3 }

/** The CT window (-1000..1000 HU) as 8-bit gray: the picture a natural-image task holds. */
function ctPicture(ct: Int16Array): Uint8Array {
  return Uint8Array.from(ct, (hu) => Math.max(0, Math.min(255, Math.round((hu + 1000) / 2000 * 255))));
}

const PICTURE_GEOMETRY: Geometry = { spacing: [1, 1, 999], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };

/** The task as an nnU-Net v2 dataset (file_ending, channel_names; cases found in imagesTr) in .mha or .png files. */
async function writeV2Demo(tmp: string, specs: DemoCaseSpec[], opts: DemoOptions, format: 'mha' | 'png'): Promise<void> {
  const ending = `.${format}`;
  for (const spec of specs) {
    const c = makeDemoCase(spec);
    const images = spec.split === 'train' ? 'imagesTr' : 'imagesTs';
    if (format === 'png') {
      await writeImageFile(path.join(tmp, images, `${spec.id}_0000${ending}`), { data: ctPicture(c.ct), shape: c.shape, dtype: 'uint8', geometry: PICTURE_GEOMETRY }, 'image');
    } else {
      await writeImageFile(path.join(tmp, images, `${spec.id}_0000${ending}`), { data: c.ct, shape: c.shape, dtype: 'int16', geometry: c.geometry }, 'image');
      await writeImageFile(path.join(tmp, images, `${spec.id}_0001${ending}`), { data: c.mr, shape: c.shape, dtype: spec.mrDtype, geometry: c.geometry }, 'image');
    }
    if (spec.split === 'train') {
      await writeImageFile(path.join(tmp, 'labelsTr', `${spec.id}${ending}`), { data: c.label, shape: c.shape, dtype: 'uint8', geometry: format === 'png' ? PICTURE_GEOMETRY : c.geometry }, 'seg');
    }
  }
  writeJsonAtomic(path.join(tmp, 'dataset.json'), {
    name: demoName(opts),
    description: format === 'png'
      ? 'Synthetic 2D natural-image task made by `nnunet demo-dataset --2d-png`: one grayscale CT-window slice per case, an organ with a lesion inside'
      : 'The demo task of `nnunet demo-dataset` stored as .mha (made by `nnunet demo-dataset --mha`)',
    reference: `nnunet-ts demo-dataset --seed ${opts.seed ?? 0} --${format === 'png' ? '2d-png' : 'mha'}`,
    licence: 'CC0-1.0',
    channel_names: format === 'png' ? { 0: 'gray' } : { 0: 'CT', 1: 'MRI' },
    labels: { background: 0, organ: 1, lesion: 2 },
    numTraining: specs.filter((s) => s.split === 'train').length,
    file_ending: ending,
  });
}

export async function writeDemoDataset(rawDataBase: string, opts: DemoOptions): Promise<DemoResult> {
  const taskName = demoTaskName(opts);
  const outDir = path.join(rawTasksFolder(path.resolve(rawDataBase)), taskName);
  const specs = demoCaseSpecs(opts);
  const format = opts.format ?? 'nifti';
  await writeDirAtomic(outDir, async (tmp) => {
    if (format !== 'nifti') {
      for (const sub of ['imagesTr', 'labelsTr', 'imagesTs']) fs.mkdirSync(path.join(tmp, sub));
      await writeV2Demo(tmp, specs, opts, format);
      return;
    }
    for (const sub of ['imagesTr', 'labelsTr', 'imagesTs']) fs.mkdirSync(path.join(tmp, sub));
    for (const spec of specs) {
      const c = makeDemoCase(spec);
      if (opts.ignoreLabel && spec.split === 'train') markIgnored(c.label, c.shape);
      const images = spec.split === 'train' ? 'imagesTr' : 'imagesTs';
      await writeNifti(path.join(tmp, images, `${spec.id}_0000.nii.gz`), { data: c.ct, shape: c.shape, dtype: 'int16', geometry: c.geometry });
      await writeNifti(path.join(tmp, images, `${spec.id}_0001.nii.gz`), { data: c.mr, shape: c.shape, dtype: spec.mrDtype, geometry: c.geometry });
      if (spec.split === 'train') await writeNifti(path.join(tmp, 'labelsTr', `${spec.id}.nii.gz`), { data: c.label, shape: c.shape, dtype: 'uint8', geometry: c.geometry });
    }
    const train = specs.filter((s) => s.split === 'train');
    const test = specs.filter((s) => s.split === 'test');
    writeJsonAtomic(path.join(tmp, 'dataset.json'), {
      name: opts.large ? 'DemoLarge' : 'Demo',
      description: 'Synthetic two-modality task made by `nnunet demo-dataset`: an organ with a lesion inside, a spine, CT (HU) and MR-like channels',
      reference: `nnunet-ts demo-dataset --seed ${opts.seed ?? 0}${opts.large ? ' --large' : ''}${opts.regions ? ' --regions' : ''}${opts.ignoreLabel ? ' --ignore-label' : ''}`,
      licence: 'CC0-1.0',
      release: '1.0',
      tensorImageSize: '4D',
      ...demoLabelsJson(opts),
      numTraining: train.length,
      numTest: test.length,
      training: train.map((s) => ({ image: `./imagesTr/${s.id}.nii.gz`, label: `./labelsTr/${s.id}.nii.gz` })),
      test: test.map((s) => `./imagesTs/${s.id}.nii.gz`),
    });
  });
  const train = specs.filter((s) => s.split === 'train');
  const median = (k: number) => { const v = train.map((s) => s.shape[k]).sort((a, b) => a - b); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
  return { taskName, outDir, numTraining: train.length, numTest: specs.length - train.length, medianShape: [median(0), median(1), median(2)] };
}
