/*
 * A mixed I/O workload over one file, reproducible from a seed: 60 % 4 KiB random I/Os,
 * 30 % random I/Os of 64 KiB to 1 MiB, 10 % 8 MiB I/Os continuing a sequential stream.
 */

export interface Io {
  offset: number;
  length: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * mulberry32: a seeded 32-bit generator, so the simulation and its picture are the same
 * on every run (Math.random cannot be seeded; a library for five lines is not worth it).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function* mixedWorkload(count: number, fileSize: number, seed = 1): Generator<Io> {
  const random = prng(seed);
  const below = (n: number) => Math.floor(random() * n);
  let stream = 0;
  for (let i = 0; i < count; i++) {
    const kind = random();
    if (kind < 0.6) {
      yield { offset: below(fileSize / (4 * KiB)) * 4 * KiB, length: 4 * KiB };
    } else if (kind < 0.9) {
      const length = 64 * KiB * 2 ** below(5);
      yield { offset: below((fileSize - length) / (64 * KiB)) * 64 * KiB, length };
    } else {
      if (stream + 8 * MiB > fileSize) stream = 0;
      yield { offset: stream, length: 8 * MiB };
      stream += 8 * MiB;
    }
  }
}
