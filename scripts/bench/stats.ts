/** Summaries of timing samples: medians and ranges, never means (one stall would skew them). */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The median of the per-pair ratios ours / reference. Pairs are the two runs of one cycle,
 * taken back to back, so a slow moment of the machine affects both sides of a pair alike.
 */
export function pairedRatio(reference: readonly number[], ours: readonly number[]): number {
  const count = Math.min(reference.length, ours.length);
  const ratios = Array.from({ length: count }, (_, index) => ours[index]! / reference[index]!);
  return summarize(ratios).median;
}

/** Both sides of a paired comparison, as reported. */
export interface Comparison {
  reference: Summary;
  ours: Summary;
  /** Median of per-pair ratios ours / reference. */
  ratio: number;
}

export function compare(reference: readonly number[], ours: readonly number[]): Comparison {
  return { reference: summarize(reference), ours: summarize(ours), ratio: pairedRatio(reference, ours) };
}
