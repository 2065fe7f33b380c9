/**
 * Runs `work` (synchronous or a promise) and prints how long it took, so the output of an
 * end-to-end run shows what each runtime operation costs with our plugins.
 */
export function timed<T>(label: string, work: () => T): T {
  const start = performance.now();
  const report = () => console.log(`[e2e timing] ${label}: ${Math.round(performance.now() - start)} ms`);
  const result = work();
  if (result instanceof Promise) return result.finally(report) as T;
  report();
  return result;
}
