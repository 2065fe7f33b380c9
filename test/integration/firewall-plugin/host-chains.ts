import { spawnSync } from "node:child_process";
import { filterRules, hostRoute, familyOf } from "./harness.ts";

/**
 * Cleanup for tests that run the firewall plugin in the host namespace, where a real runtime
 * puts its rules. The per-address rules are the test's own and always removed. CNI-FORWARD,
 * the admin chain and the jumps to them are shared with whatever else uses the plugin here:
 * they are removed only when the test created them and nothing else uses them, in one commit
 * that fails as a whole (leaving everything) if another rule appeared in them meanwhile.
 */
const FAMILIES = [4, 6] as const;
const FORWARD_JUMP = '-m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD';
const adminJump = (chain: string) => `-m comment --comment "CNI firewall plugin admin overrides" -j ${chain}`;

function restore(family: 4 | 6, lines: string[]): boolean {
  const tool = family === 4 ? "iptables-restore" : "ip6tables-restore";
  const input = ["*filter", ...lines, "COMMIT", ""].join("\n");
  return spawnSync(tool, ["-w", "30", "--noflush"], { input, encoding: "utf8" }).status === 0;
}

function hasChain(family: 4 | 6, chain: string): boolean {
  return filterRules(family).some((line) => line.startsWith(`:${chain} `));
}

export class HostChains {
  private readonly createdHere: Record<4 | 6, boolean>;

  constructor() {
    this.createdHere = { 4: !hasChain(4, "CNI-FORWARD"), 6: !hasChain(6, "CNI-FORWARD") };
  }

  /** Deletes every copy of the plugin's rules for these container addresses. */
  removeAddressRules(cidrs: readonly string[]): void {
    for (const cidr of cidrs) {
      const host = hostRoute(cidr);
      const family = familyOf(cidr);
      const ours = filterRules(family).filter((line) => line.startsWith("-A CNI-FORWARD ") && line.split(" ").includes(host));
      if (ours.length > 0) restore(family, ours.map((line) => line.replace(/^-A /, "-D ")));
    }
  }

  /** Deletes the markers of these container addresses, leaving the reference's layout. */
  removeMarkers(cidrs: readonly string[]): void {
    for (const cidr of cidrs) {
      const host = hostRoute(cidr);
      const family = familyOf(cidr);
      const markers = filterRules(family).filter((line) => line.startsWith(`-A CNI-FORWARD -s ${host} -m comment `));
      if (markers.length > 0) restore(family, markers.map((line) => line.replace(/^-A /, "-D ")));
    }
  }

  /** Removes an admin chain the test made up, with its jump, if nothing else is in it. */
  removeAdminChain(chain: string): void {
    for (const family of FAMILIES) {
      if (hasChain(family, chain)) restore(family, [`-D CNI-FORWARD ${adminJump(chain)}`, `-X ${chain}`]);
    }
  }

  /** Removes CNI-FORWARD and CNI-ADMIN where this test created them and they hold only the admin jump. */
  removeSharedChainsIfUnused(): void {
    for (const family of FAMILIES) {
      if (!this.createdHere[family] || !hasChain(family, "CNI-FORWARD")) continue;
      restore(family, [`-D CNI-FORWARD ${adminJump("CNI-ADMIN")}`, `-D FORWARD ${FORWARD_JUMP}`, "-X CNI-FORWARD", "-X CNI-ADMIN"]);
    }
  }
}
