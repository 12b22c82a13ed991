/** Percentile of sorted-ascending samples (nearest rank). */
export const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/** `p50 x ms, p99 y ms (n)` for a list of millisecond samples. */
export const summary = (samples: readonly number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(v < 10 ? 2 : 1);
  return `p50 ${f(percentile(sorted, 50))} ms, p99 ${f(percentile(sorted, 99))} ms (n=${sorted.length})`;
};

/** Runs `fn` and returns how long it took in ms. */
export const timed = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
