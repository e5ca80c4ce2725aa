// The seeded pseudo-random generator of the tests (mulberry32): small, fast, the same choices on every run with the
// same seed (tests print it so a failure can be replayed).

export interface Random {
  /** A float in [0, 1). */
  (): number;
}

export function prng(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function int(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** One element of `list`. */
export function pick<T>(random: Random, list: readonly T[]): T {
  return list[int(random, list.length)] as T;
}
