/**
 * host-local: IP address management from configured ranges, with one lease file per address in
 * a directory on this host, shared with (and interchangeable with) the reference host-local.
 */
import {
  allocateAll,
  checkAttachment,
  collectGarbage,
  exhaustedRangeSets,
  HostLocalStore,
  parseResolvConf,
  planRequestedIPs,
  toIPConfig,
  type IpamConfig,
} from "../../lib/ipam/index.ts";
import { CniError, definePlugin, ErrorCode, invalidConfig, log } from "../../lib/skel/index.ts";
import { FileRefused, readSmallFile } from "../../lib/sys/index.ts";
import type { DNS } from "../../lib/types/index.ts";
import { hostLocalConfigSchema, parseHostLocalConfig, type HostLocalConfig } from "./config.ts";

export default definePlugin<HostLocalConfig>({
  name: "host-local",
  about: "host-local IPAM: allocates addresses from configured ranges, leases kept in files on this host",
  configSchema: hostLocalConfigSchema,
  parseConfig: parseHostLocalConfig,

  async add({ config, containerId, ifname }) {
    const { ipamConfig } = config;
    const plan = planRequestedIPs(ipamConfig.rangeSets, config.requestedIPs);
    const dns = ipamConfig.resolvConf === undefined ? undefined : readResolvConf(ipamConfig.resolvConf);
    const allocations = locked(openStore(ipamConfig), (store) => allocateAll(store, ipamConfig, { containerId, ifname }, plan));
    return { ips: allocations.map(toIPConfig), routes: ipamConfig.routes, dns };
  },

  async del({ config, containerId, ifname }) {
    locked(openExistingStore(config.ipamConfig), (store) => store?.release({ containerId, ifname }));
  },

  async check({ config, containerId, ifname }) {
    const { ipamConfig } = config;
    locked(openExistingStore(ipamConfig), (store) => {
      if (!store) {
        throw new CniError(ErrorCode.CheckFailed, `no addresses are reserved on network ${ipamConfig.network} (${ipamConfig.dataDir} has no lease directory for it)`);
      }
      checkAttachment(store, ipamConfig, { containerId, ifname });
    });
  },

  async gc({ config, validAttachments }) {
    const valid = validAttachments.map(({ containerID, ifname }) => ({ containerId: containerID, ifname }));
    locked(openExistingStore(config.ipamConfig), (store) => store && collectGarbage(store, valid));
  },

  async status({ config }) {
    const { ipamConfig } = config;
    const reserved = locked(openExistingStore(ipamConfig), (store) => store?.reservedAddresses() ?? []);
    const exhausted = exhaustedRangeSets(ipamConfig, reserved);
    if (exhausted.length > 0) {
      const sets = exhausted.map((index) => `range set ${index} (${ipamConfig.rangeSets[index]})`).join(", ");
      throw new CniError(ErrorCode.NotAvailable, `no free address left in ${sets} of network ${ipamConfig.network}`);
    }
  },
});

function openStore(config: IpamConfig): HostLocalStore {
  return HostLocalStore.open(config.dataDir, config.network);
}

/** Undefined when the network has no lease directory yet: nothing is reserved, nothing to create. */
function openExistingStore(config: IpamConfig): HostLocalStore | undefined {
  return HostLocalStore.openExisting(config.dataDir, config.network);
}

/** Runs `body` on an opened (so locked) store, then saves its index and unlocks it. */
function locked<S extends HostLocalStore | undefined, T>(store: S, body: (store: S) => T): T {
  try {
    return body(store);
  } finally {
    const problem = store?.close();
    if (problem) log(`host-local: could not save the owner index (the next operation rescans the leases): ${problem.message}`);
  }
}

/** The DNS settings of ipam.resolvConf: a regular file of at most 64 KiB, else code 7 naming the key. */
function readResolvConf(path: string): DNS {
  let text: string;
  try {
    text = readSmallFile(path).toString("utf8");
  } catch (error) {
    const reason = error instanceof FileRefused ? error.reason : `cannot be read: ${(error as Error).message}`;
    throw invalidConfig("ipam.resolvConf", path, reason);
  }
  return parseResolvConf(text);
}
