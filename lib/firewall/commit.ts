import { closeSync } from "node:fs";
import { CniError, ErrorCode } from "../core/index.ts";
import { LockTimeout, lockFile } from "../sys/index.ts";

/** How many times a commit is planned again after another process changed the rules under it. */
const COMMIT_ATTEMPTS = 5;

/**
 * Held from reading the rules to committing the change, so that our plugins never plan from the
 * same reading at once: two of them would both append a shared jump rule (iptables-restore has
 * no "append unless present"), and the rule would then stand twice.
 */
const COMMIT_LOCK = "/run/cni-ts-firewall.lock";
/** Longer than iptables' own wait for the xtables lock (-w 30), which a commit may include. */
const COMMIT_LOCK_WAIT_MS = 40_000;

/**
 * Plans a change from the rules as they are now and applies it in one transaction. Plugins run
 * concurrently for different containers: when the commit fails because another run changed the
 * rules in between (a rule to delete is gone, a chain to create now exists), the change is
 * planned again from a fresh reading. When the new plan is the one that failed, the tool
 * rejected the change itself and its error is final.
 */
export function commitFromFreshState<S extends { text(): string }>(plan: () => S, apply: (script: S) => void): void {
  const lock = takeCommitLock();
  try {
    planAndApply(plan, apply);
  } finally {
    closeSync(lock);
  }
}

function planAndApply<S extends { text(): string }>(plan: () => S, apply: (script: S) => void): void {
  let failed: { text: string; error: unknown } | undefined;
  for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
    const script = plan();
    const text = script.text();
    if (failed?.text === text) break;
    try {
      apply(script);
      return;
    } catch (error) {
      failed = { text, error };
    }
  }
  throw failed!.error;
}

function takeCommitLock(): number {
  try {
    return lockFile(COMMIT_LOCK, COMMIT_LOCK_WAIT_MS);
  } catch (error) {
    if (error instanceof LockTimeout) throw new CniError(ErrorCode.TryAgainLater, `${error.message}: another firewall change is stuck; try again later`);
    throw new CniError(ErrorCode.FirewallFailed, `locking ${COMMIT_LOCK}: ${(error as Error).message}`);
  }
}
