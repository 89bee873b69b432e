// A seeded PRNG (mulberry32) so balancer decisions are reproducible in tests: the same seed gives
// the same sequence of picks.

export class Prng {
  private state: number;

  constructor(seed: number = (Math.random() * 0x100000000) >>> 0) {
    this.state = seed >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
