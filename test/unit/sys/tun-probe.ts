/**
 * Run by tun.test.ts under Bun (`ip netns exec <ns> bun tun-probe.ts <name>`), so the bun:ffi
 * backend makes the calls: creates a persistent multi-queue tap owned by 1234:5678, tries again
 * (which must fail), and prints what happened as JSON.
 */
import { SysError, createPersistentTap, sys } from "../../../lib/sys/index.ts";

const name = process.argv[2]!;
const outcome: Record<string, unknown> = { backend: process.versions.bun ? "bun" : "node" };
createPersistentTap({ name, multiQueue: true, owner: 1234, group: 5678 });
outcome.created = true;
try {
  createPersistentTap({ name, multiQueue: true });
} catch (error) {
  outcome.again = error instanceof SysError ? error.message : String(error);
}
try {
  sys.ioctlValue(-1, 0x400454cb, 1);
} catch (error) {
  outcome.badFd = error instanceof SysError ? error.message : String(error);
}
console.log(JSON.stringify(outcome));
