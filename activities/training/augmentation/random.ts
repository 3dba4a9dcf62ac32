/**
 * The training pipeline's random source: numpy's legacy RandomState draws (uniform, randint, normal, choice)
 * over our MT19937, so a seed fixes every batch and the state can be saved in a checkpoint and restored.
 */
import { MT19937, type MT19937State } from '../../common/mt19937';

export class Rng {
  private constructor(private readonly mt: MT19937) {}

  static seeded(seed: number): Rng {
    return new Rng(new MT19937(seed >>> 0));
  }

  static fromState(state: MT19937State): Rng {
    return new Rng(MT19937.fromState(state));
  }

  getState(): MT19937State {
    return this.mt.getState();
  }

  /** np.random.random(): [0, 1). */
  random(): number {
    return this.mt.randomSample();
  }

  /** np.random.uniform(lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.mt.randomSample();
  }

  /** np.random.randint(lo, hi): integer in [lo, hi). */
  randint(lo: number, hi: number): number {
    if (!(hi > lo)) throw new RangeError(`randint: empty range [${lo}, ${hi})`);
    return lo + this.mt.randomInterval(hi - lo - 1);
  }

  /** np.random.normal(0, sd). */
  normal(sd: number): number {
    return sd * this.mt.standardNormal();
  }

  /** np.random.shuffle of a list, in place. */
  shuffle<T>(items: T[]): void {
    this.mt.shuffle(items);
  }

  /** A 32-bit seed for an independent child generator (e.g. one per worker). */
  nextSeed(): number {
    return this.mt.nextUint32();
  }

  /** `p`-probability event: np.random.uniform() < p. */
  chance(p: number): boolean {
    return this.mt.randomSample() < p;
  }

  /** nnU-Net's "half below 1, half above" draw (contrast, gamma, scale): U(lo, 1) or U(max(lo, 1), hi). */
  aroundOne(range: readonly [number, number]): number {
    if (this.random() < 0.5 && range[0] < 1) return this.uniform(range[0], 1);
    return this.uniform(Math.max(range[0], 1), range[1]);
  }
}
