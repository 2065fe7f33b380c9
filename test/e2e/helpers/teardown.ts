/**
 * What an end-to-end test set up, undone in reverse order. Every step runs even when an earlier
 * one fails (a failed test must still leave the host clean); the failures are reported together.
 */
export class Teardown {
  private readonly steps: Array<{ what: string; undo: () => void | Promise<void> }> = [];

  /** Registers an undo step right after the thing it undoes was made. */
  add(what: string, undo: () => void | Promise<void>): void {
    this.steps.push({ what, undo });
  }

  async run(): Promise<void> {
    const failures: string[] = [];
    for (const { what, undo } of this.steps.splice(0).reverse()) {
      try {
        await undo();
      } catch (error) {
        failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length) throw new Error(`clean-up failed:\n${failures.join("\n")}`);
  }
}
