/**
 * Helpers of the whole-pipeline tests (pipeline, crash, sweep): the CLI as its own process group (so a test can
 * kill -9 all of it, as a crash would), printed commands split into words, file fingerprints, PNG pixels.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CLI, cleanEnv, ROOT } from '../client/cli-helpers';
import { listFiles } from './helpers';

/** A printed shell command split into words (plain words and '…' quoting, as the CLI prints them). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return words;
}

export interface GroupProcess {
  pid: number;
  readonly output: string;
  /** Resolves once `test(output)` holds (polled), rejects on exit or timeout. */
  until(test: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** SIGKILL to the whole process group (the CLI, its in-process workers' training children, batch workers). */
  killGroup(): void;
  done: Promise<number | null>;
}

/** `nnunet ARGS` as the leader of a new process group. */
export function startCliGroup(args: string[], env: Record<string, string>): GroupProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let exited = false;
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => { exited = true; resolve(code); }));
  return {
    pid: child.pid!,
    get output() { return output; },
    done,
    killGroup: () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } },
    async until(test, timeoutMs, what) {
      const end = Date.now() + timeoutMs;
      while (!test()) {
        if (exited) throw new Error(`nnunet ${args.join(' ')} exited before ${what}\n${output}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** relative path → mtime (ms) and size of every file under `dir`: equal maps = nothing rewritten. */
export function fileStamps(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listFiles(dir)) {
    const st = fs.statSync(path.join(dir, f));
    out[f] = `${st.mtimeMs} ${st.size}`;
  }
  return out;
}

export interface Rgba { width: number; height: number; pixels: Uint8Array }

/**
 * Decodes an 8-bit RGBA, non-interlaced PNG (what resvg writes), checking the signature and every chunk's CRC, so
 * a test can look at the picture itself. Throws on anything else.
 */
export function decodePng(png: Buffer): Rgba {
  const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG (signature)');
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  let ended = false;
  for (let at = 8; at < png.length && !ended;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (zlib.crc32(png.subarray(at + 4, at + 8 + length)) !== png.readUInt32BE(at + 8 + length)) throw new Error(`PNG chunk ${type}: bad CRC`);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 6 || body[12] !== 0) throw new Error('PNG: expected 8-bit RGBA, not interlaced');
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    at += 12 + length;
  }
  if (!ended || width === 0) throw new Error('PNG: truncated');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= 4 ? pixels[out + i - 4] : 0;
      const b = y > 0 ? pixels[out - stride + i] : 0;
      const c = i >= 4 && y > 0 ? pixels[out - stride + i - 4] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      if (predictor === undefined) throw new Error(`PNG: unknown filter ${filter}`);
      pixels[out + i] = (line[i] + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

/**
 * Solid bars of one colour, left to right: each run of columns holding that exact colour (at least `minWidth`
 * wide, so legend swatches do not count) with its height in pixels at the run's middle column.
 */
export function barsOfColor(img: Rgba, rgb: [number, number, number], minWidth = 20): Array<{ x0: number; x1: number; height: number }> {
  const is = (x: number, y: number) => {
    const i = (y * img.width + x) * 4;
    return img.pixels[i] === rgb[0] && img.pixels[i + 1] === rgb[1] && img.pixels[i + 2] === rgb[2];
  };
  const columnHas = (x: number) => { for (let y = 0; y < img.height; y++) if (is(x, y)) return true; return false; };
  const bars: Array<{ x0: number; x1: number; height: number }> = [];
  for (let x = 0; x < img.width;) {
    if (!columnHas(x)) { x++; continue; }
    const x0 = x;
    while (x < img.width && columnHas(x)) x++;
    if (x - x0 < minWidth) continue;
    const mid = (x0 + x) >> 1;
    let height = 0;
    for (let y = 0; y < img.height; y++) if (is(mid, y)) height++;
    bars.push({ x0, x1: x - 1, height });
  }
  return bars;
}
