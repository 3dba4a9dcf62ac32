/**
 * ITK's own image readers and writers compiled to WebAssembly (@itk-wasm/image-io): .nrrd, .mha/.mhd, .gipl,
 * .tif, .png, .bmp, .jpg with ITK's geometry, so spacing, origin and direction are what SimpleITK reports.
 * The package is an ES module with top-level await, which require() cannot load; this CommonJS build would turn
 * `await import()` into require(), so the import goes through a Function that tsc leaves alone. It is loaded on
 * first use only: NIfTI-only datasets never pay for it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempSibling } from '../../common/atomic';
import { BadInputError } from '../../common/errors';

/** The parts of itk-wasm's Image this project uses (size and spacing in ITK order: x fastest). */
export interface ItkImage {
  imageType: { dimension: number; componentType: string; pixelType: string; components: number };
  name: string;
  origin: number[];
  spacing: number[];
  /** Row-major, as SimpleITK's GetDirection(). */
  direction: Float64Array | number[];
  size: number[];
  metadata: Map<string, unknown>;
  data: ArrayLike<number> & ArrayBufferView | null;
}

interface ImageIoModule {
  readImageNode(file: string): Promise<ItkImage>;
  writeImageNode(image: ItkImage, file: string, options?: { useCompression?: boolean }): Promise<void>;
}

const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;
let loading: Promise<ImageIoModule> | undefined;

/** Whether anything has asked for itk-wasm yet (NIfTI-only work never should). */
export function imageIoRequested(): boolean {
  return loading !== undefined;
}

function imageIo(): Promise<ImageIoModule> {
  loading ??= dynamicImport('@itk-wasm/image-io') as Promise<ImageIoModule>;
  return loading;
}

/** Reads any ITK-readable file; a failure names the file. */
export async function readItkImage(file: string): Promise<ItkImage> {
  const io = await imageIo();
  try {
    return await io.readImageNode(file);
  } catch (err) {
    throw new BadInputError(`${file}: ITK could not read it (${errorText(err)}); check that the file is complete and its ending matches its format`, file);
  }
}

/**
 * Writes with compression where the format has it (.mha, .nrrd, .tif, .png), atomically: ITK picks the format by
 * the file name, so it writes under the final name inside a temporary sibling folder, then each file it made
 * (.mhd writes a .raw beside it) is renamed into place, the header last.
 */
export async function writeItkImage(file: string, image: ItkImage): Promise<void> {
  const io = await imageIo();
  const tmp = tempSibling(file);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await io.writeImageNode(image, path.join(tmp, path.basename(file)), { useCompression: true });
    const made = fs.readdirSync(tmp).sort((a, b) => Number(a === path.basename(file)) - Number(b === path.basename(file)));
    for (const f of made) fs.renameSync(path.join(tmp, f), path.join(path.dirname(file), f));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
