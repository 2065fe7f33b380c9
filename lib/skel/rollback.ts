import { log } from "../core/index.ts";

/**
 * Undo steps of a multi-step ADD, run newest first when a later step fails, so a failed ADD
 * leaves nothing half-made. A failing undo step is logged and the others still run: the
 * original error is what the caller must see.
 */
export class Rollback {
  private readonly steps: { what: string; undo: () => unknown }[] = [];

  /** Registers how to undo something just created; `what` names it for the log. */
  add(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  /** Runs every undo step, newest first. */
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step.undo();
      } catch (error) {
        log(`rollback: could not undo ${step.what}: ${(error as Error).message}`);
      }
    }
    this.steps.length = 0;
  }

  /** Runs `body`; if it throws, undoes what it registered and rethrows the original error. */
  static async guard<T>(body: (rollback: Rollback) => Promise<T>): Promise<T> {
    const rollback = new Rollback();
    try {
      return await body(rollback);
    } catch (error) {
      await rollback.run();
      throw error;
    }
  }
}
