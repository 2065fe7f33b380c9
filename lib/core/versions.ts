/**
 * Compares two versions given as numbers, most significant first ([1, 0, 1] for "1.0.1"); a
 * missing component counts as 0. Negative, zero or positive, as sort comparators are. Each
 * caller parses its own text (a spec version, libcni's lenient forms, `nft --version`).
 */
export function compareVersionNumbers(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
