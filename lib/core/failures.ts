import { CniError, toCniError, type ErrorCodeValue } from "./errors.ts";

/**
 * "Do every step, then report every failure": for clean-up work (GC, DEL, teardown on each
 * firewall backend) where one step failing must not keep the others from running. Steps run
 * through `attempt`; `throwIfAny` then reports them all in one CniError, or a caller with its
 * own error type reads `errors`.
 */
export class Failures {
  private readonly collected: Error[] = [];

  /** Runs a synchronous step; what it throws is collected, not thrown. */
  attempt(work: () => unknown, context?: string): void {
    try {
      work();
    } catch (error) {
      this.add(error, context);
    }
  }

  /** Runs an asynchronous step; what it throws is collected, not thrown. */
  async attemptAsync(work: () => Promise<unknown>, context?: string): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.add(error, context);
    }
  }

  /**
   * Records a failure: as thrown, or with `context` in front of its message (as a CniError with
   * its code kept).
   */
  add(error: unknown, context?: string): void {
    if (context !== undefined) this.collected.push(toCniError(error).withContext(context));
    else this.collected.push(error instanceof Error ? error : new Error(String(error)));
  }

  /** What failed, in the order it happened. */
  get errors(): readonly Error[] {
    return this.collected;
  }

  /**
   * Throws when any step failed: one failure as a CniError with `what` in front, several as one
   * CniError with every message ("GC: a failed; b failed") and `code`, by default the first one's.
   */
  throwIfAny(what: string, code?: ErrorCodeValue): void {
    const failures = this.collected.map((error) => toCniError(error));
    const [first, ...rest] = failures;
    if (!first) return;
    if (rest.length === 0) throw first.withContext(what);
    throw new CniError(code ?? first.code, `${what}: ${failures.map((failure) => failure.message).join("; ")}`);
  }
}
