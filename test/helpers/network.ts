import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gcMasquerade, gcPortMappings } from "../../lib/firewall/index.ts";
import { deleteLinkIfExists } from "./netns.ts";
import { randomSubnets, uniqueName } from "./tag.ts";

/** One test network: its own bridge name, random subnets and host-local data dir. */
export interface TestNetwork {
  name: string;
  bridge: string;
  subnets: ReturnType<typeof randomSubnets>;
  dataDir: string;
  /** The leases host-local holds for this network: the files named after addresses. */
  leases(): string[];
  /** A bridge + host-local configuration for this network, with overrides merged in. */
  bridgeConfig(overrides?: Record<string, unknown>, cniVersion?: string): Record<string, unknown>;
  cleanup(): void;
}

export function createTestNetwork(options: { dualStack?: boolean } = {}): TestNetwork {
  const name = uniqueName("net");
  const bridge = uniqueName("br");
  const subnets = randomSubnets();
  const dataDir = mkdtempSync(join(tmpdir(), "cni-ipam-"));
  const ranges = options.dualStack === false ? [[{ subnet: subnets.v4 }]] : [[{ subnet: subnets.v4 }], [{ subnet: subnets.v6 }]];
  return {
    name,
    bridge,
    subnets,
    dataDir,
    leases() {
      const dir = join(dataDir, name);
      if (!existsSync(dir)) return [];
      return readdirSync(dir).filter((file) => file !== "lock" && !file.startsWith("last_reserved_ip") && !file.startsWith("."));
    },
    bridgeConfig(overrides = {}, cniVersion = "1.0.0") {
      return {
        cniVersion,
        name,
        type: "bridge",
        bridge,
        isGateway: true,
        ipam: { type: "host-local", dataDir, ranges },
        ...overrides,
      };
    },
    /**
     * Removes the bridge, the leases and any masquerading or port-mapping rules that name this
     * network (a test that failed half-way may have left some), using the plugins' own GC with
     * no attachment left valid.
     */
    cleanup() {
      deleteLinkIfExists(bridge);
      rmSync(dataDir, { recursive: true, force: true });
      gcMasquerade(name, []);
      gcPortMappings(name, []);
    },
  };
}
