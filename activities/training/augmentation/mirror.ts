/** MirrorTransform: each allowed spatial axis flipped with p 0.5, image and seg alike.
 * See docs/augmentation.md, 'Pipeline'.
 */
import type { Rng } from './random';
import type { Channels } from './spatial';

/** Reverses `axis` (spatial) of every channel, in place. */
export function flipAxis(x: Channels, axis: number): void {
  const n = x.shape[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < x.shape.length; a++) inner *= x.shape[a]!;
  const outer = x.data.length / (n * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let k = 0; k < n >> 1; k++) {
      const a = base + k * inner;
      const b = base + (n - 1 - k) * inner;
      for (let i = 0; i < inner; i++) {
        const t = x.data[a + i]!;
        x.data[a + i] = x.data[b + i]!;
        x.data[b + i] = t;
      }
    }
  }
}

export function mirror(image: Channels, seg: Channels, axes: readonly number[], rng: Rng): number[] {
  const flipped: number[] = [];
  for (const axis of axes) {
    if (axis >= image.shape.length || !rng.chance(0.5)) continue;
    flipAxis(image, axis);
    flipAxis(seg, axis);
    flipped.push(axis);
  }
  return flipped;
}
