import { closeSync, openSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll } from "vitest";
import { commandExecutor } from "../../../lib/firewall/exec.ts";
import { IP_FAMILIES, IPTABLES_TOOLS } from "../../../lib/firewall/iptables/family.ts";
import { applyRestore, RestoreScript } from "../../../lib/firewall/iptables/restore.ts";
import { readIptablesTable } from "../../../lib/firewall/iptables/save.ts";
import { readNftTable } from "../../../lib/firewall/nftables/listing.ts";
import { LOCK_EX, LOCK_UN, SysError, sys } from "../../../lib/sys/index.ts";
import { addContainer, createTopology, forgetPortMappings, removeContainer, type Container, type Topology } from "./topology.ts";

/**
 * The portmap tests work in the host namespace, where a runtime puts the rules. Everything of a
 * test's own (per-container chains and rules) is named after its unique network and container,
 * but the chains and tables every container shares (CNI-HOSTPORT-*, the cni_hostport tables)
 * are one per host. These helpers keep the test files that use them from stepping on each
 * other and leave the shared parts as they were found.
 */

const LOCK_PATH = "/tmp/cni-ts-portmap-host-tests.lock";
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

/** Waits until no other portmap test file works on the host, then holds that until released. */
export async function lockHost(): Promise<() => void> {
  const fd = openSync(LOCK_PATH, "a");
  for (;;) {
    try {
      sys.flock(fd, LOCK_EX | LOCK_NB);
      return () => {
        sys.flock(fd, LOCK_UN);
        closeSync(fd);
      };
    } catch (error) {
      if (!(error instanceof SysError && error.errno === EWOULDBLOCK)) {
        closeSync(fd);
        throw error;
      }
      await sleep(200);
    }
  }
}

const SHARED_CHAINS = ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"];
const BUILT_IN = ["PREROUTING", "OUTPUT", "POSTROUTING"];
const NFT_CONTAINER_CHAINS = ["hostports", "hostip_hostports", "masquerading"];
const executor = commandExecutor();

/**
 * Notes which shared chains and tables exist now; the returned function removes those that did
 * not exist and that nothing uses any more. For iptables that is one commit which deletes the
 * jumps into the shared chains and the chains themselves, and which the kernel refuses as a
 * whole while a shared chain still holds a container's rule or is the target of one.
 */
export function rememberSharedState(): () => void {
  const hadChains = new Map(IP_FAMILIES.map((family) => [family, SHARED_CHAINS.some((chain) => readNat(family).hasChain(chain))]));
  const hadTables = new Map(IP_FAMILIES.map((family) => [family, nftTable(family) !== undefined]));
  return () => {
    for (const family of IP_FAMILIES) {
      if (!hadChains.get(family)) removeUnusedSharedChains(family);
      if (!hadTables.get(family)) removeUnusedNftTable(family);
    }
  };
}

function readNat(family: 4 | 6) {
  return readIptablesTable(executor, IPTABLES_TOOLS[family], "nat");
}

function nftTable(family: 4 | 6) {
  return readNftTable(executor, family === 4 ? "ip" : "ip6", "cni_hostport");
}

function removeUnusedSharedChains(family: 4 | 6): void {
  const current = readNat(family);
  const present = SHARED_CHAINS.filter((chain) => current.hasChain(chain));
  if (present.length === 0) return;
  const script = new RestoreScript("nat");
  for (const chain of present) {
    for (const jump of current.referencesTo(chain)) if (BUILT_IN.includes(jump.chain)) script.delete(jump.chain, jump.args);
  }
  // Only the mark chains' own rules are flushed; CNI-HOSTPORT-DNAT must already be empty.
  for (const chain of present) if (chain !== "CNI-HOSTPORT-DNAT") script.flushChain(chain);
  for (const chain of present) script.deleteChain(chain);
  try {
    applyRestore(executor, IPTABLES_TOOLS[family], script);
  } catch {
    // Still in use (by a container of another test run, or someone else's): left in place.
  }
}

function removeUnusedNftTable(family: 4 | 6): void {
  const table = nftTable(family);
  if (!table || NFT_CONTAINER_CHAINS.some((chain) => table.rules(chain).length > 0)) return;
  executor.run("nft", ["delete", "table", family === 4 ? "ip" : "ip6", "cni_hostport"]);
}

/** A test file's hold on the host: its topology, and containers removed with their port mappings. */
export interface HostTopology {
  topology(): Topology;
  newContainer(): Container;
  /** Removes the containers made so far (their rules by name too), e.g. after each test. */
  removeContainers(): void;
}

/**
 * Registers the hooks of a test file that works on the host: waits for the host, notes the
 * shared state, builds the topology; at the end removes every container, the topology and the
 * shared chains and tables the file made.
 */
export function useHostTopology(options: { dualStack?: boolean } = {}): HostTopology {
  let unlock: (() => void) | undefined;
  let restoreShared: (() => void) | undefined;
  let topology: Topology | undefined;
  const containers: Container[] = [];
  const removeContainers = () => {
    for (const container of containers.splice(0)) {
      forgetPortMappings(topology!.network, container);
      removeContainer(topology!, container);
    }
  };

  beforeAll(async () => {
    unlock = await lockHost();
    restoreShared = rememberSharedState();
    topology = createTopology(options);
  }, 600_000);

  afterAll(() => {
    if (topology) removeContainers();
    topology?.cleanup();
    restoreShared?.();
    unlock?.();
  });

  return {
    topology: () => topology!,
    newContainer() {
      const container = addContainer(topology!);
      containers.push(container);
      return container;
    },
    removeContainers,
  };
}
