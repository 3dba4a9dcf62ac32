/**
 * numpy's legacy `RandomState` stream (Mersenne Twister MT19937) and the few legacy algorithms nnU-Net's
 * results depend on: `shuffle`, `permutation`, `choice(n, k, replace=False)`, `random_sample`.
 * A port of numpy's `mt19937.c` / `randomkit` seeding and `random_interval`, so that the same seed gives the
 * same numbers as `np.random.RandomState(seed)` (this is what makes our 5-fold split equal nnU-Net's).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** Serialisable generator state (the 624-word key and position), e.g. for training checkpoints. */
export interface MT19937State {
  key: number[];
  pos: number;
  /** The second normal deviate of the last polar draw, kept as numpy keeps it. */
  gauss?: number | null;
}

export class MT19937 {
  private readonly key = new Uint32Array(N);
  private pos = N;
  private gauss: number | null = null;

  /** `RandomState(seed)`: an integer seed in [0, 2^32) uses init_genrand; an array uses init_by_array. */
  constructor(seed: number | readonly number[]) {
    if (typeof seed === 'number') this.initGenrand(seed);
    else this.initByArray(seed);
  }

  static fromState(state: MT19937State): MT19937 {
    if (state.key.length !== N || !(state.pos >= 0 && state.pos <= N)) throw new Error('MT19937: invalid state');
    const rng = new MT19937(0);
    rng.key.set(state.key);
    rng.pos = state.pos;
    rng.gauss = state.gauss ?? null;
    return rng;
  }

  getState(): MT19937State {
    return { key: Array.from(this.key), pos: this.pos, gauss: this.gauss };
  }

  private initGenrand(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`MT19937 seed must be an integer in [0, 2^32): ${seed}`);
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      this.key[i] = s;
      // 1812433253 * (s ^ (s >>> 30)) + i + 1, modulo 2^32 (Math.imul keeps the low 32 bits).
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + i + 1) >>> 0;
    }
    this.pos = N;
    this.gauss = null;
  }

  /** numpy seeds with init_by_array when the seed is an array of uint32 words. */
  private initByArray(initKey: readonly number[]): void {
    this.initGenrand(19650218);
    const mt = this.key;
    let i = 1;
    let j = 0;
    const len = initKey.length;
    for (let k = Math.max(N, len); k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev >>> 0, 1664525)) + (initKey[j]! >>> 0) + j) >>> 0;
      i++;
      j++;
      if (i >= N) { mt[0] = mt[N - 1]!; i = 1; }
      if (j >= len) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev >>> 0, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) { mt[0] = mt[N - 1]!; i = 1; }
    }
    mt[0] = 0x80000000;
    this.pos = N;
  }

  private generate(): void {
    const mt = this.key;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** genrand_int32: the next tempered 32-bit word. */
  nextUint32(): number {
    if (this.pos >= N) this.generate();
    let y = this.key[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random_sample()`: a double in [0, 1) with 53 random bits (genrand_res53). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** `standard_normal()`: numpy's legacy polar (Marsaglia) method, which yields deviates in pairs. */
  standardNormal(): number {
    if (this.gauss !== null) {
      const g = this.gauss;
      this.gauss = null;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2.0 * this.randomSample() - 1.0;
      x2 = 2.0 * this.randomSample() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    return f * x2;
  }

  /** numpy's `random_interval(max)`: uniform integer in [0, max] by masked rejection (max < 2^32). */
  randomInterval(max: number): number {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) throw new RangeError(`randomInterval: ${max}`);
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0; while (value > max);
    return value;
  }

  /** `RandomState.shuffle` of a 1-D sequence, in place (Fisher-Yates from the end, as numpy does). */
  shuffle<T>(items: T[] | Int32Array | Float64Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randomInterval(i);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
  }

  /** `RandomState.permutation(n)`. */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    this.shuffle(out);
    return out;
  }

  /** `RandomState.choice(n, size, replace=False)` without probabilities: the first `size` of a permutation. */
  choiceWithoutReplacement(n: number, size: number): number[] {
    if (size > n) throw new RangeError(`cannot take ${size} of ${n} without replacement`);
    return this.permutation(n).slice(0, size);
  }
}
