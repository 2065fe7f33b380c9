/**
 * Cost growth: host-local DEL latency with N existing leases in its data directory. Both
 * suites get identical directories, filled as the reference writes leases (one file per
 * address holding "<id>\r\n<ifname>", and last_reserved_ip.0); then each iteration ADDs one
 * container (timed, for information) and DELs it (the figure). One unmeasured ADD+DEL first
 * lets each implementation settle (ours builds its owner index from a full scan once).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { progress, type BenchContext } from "../context.ts";
import { addList, delList, type Attachment, type Suite } from "../driver.ts";
import { hostLocalNetwork, type BenchNetwork } from "../networks.ts";
import { compare, type Comparison } from "../stats.ts";

export interface LeaseCountResult {
  leases: number;
  del: Comparison;
  add: Comparison;
}

export interface LeasesResult {
  counts: LeaseCountResult[];
  /** DEL at the largest count over DEL at the smallest, per suite (medians). */
  growth: { reference: number; ours: number; from: number; to: number };
}

export async function runLeases(context: BenchContext): Promise<LeasesResult> {
  const { options, host } = context;
  const counts: LeaseCountResult[] = [];
  const [netnsPath] = host.createNamespaces(1);
  try {
    for (const leases of options.leaseCounts) {
      progress(`leases: ${leases} existing leases, ${options.leaseIterations} DELs per suite`);
      const networks = {
        reference: hostLocalNetwork({ host, subnets: context.subnets, label: `leases-ref` }),
        ours: hostLocalNetwork({ host, subnets: context.subnets, label: `leases-ours` }),
      };
      for (const network of Object.values(networks)) prefill(network, leases);
      const samples = { reference: { add: [] as number[], del: [] as number[] }, ours: { add: [] as number[], del: [] as number[] } };
      for (let index = -1; index < options.leaseIterations; index++) {
        for (const suite of [context.reference, context.ours]) {
          const { add, del } = await addThenDelete(suite, networks[suite.id], { containerId: host.uniqueName("c"), netns: netnsPath!, ifName: "eth0" });
          if (index < 0) continue; // settling run
          samples[suite.id].add.push(add);
          samples[suite.id].del.push(del);
        }
      }
      counts.push({
        leases,
        del: compare(samples.reference.del, samples.ours.del),
        add: compare(samples.reference.add, samples.ours.add),
      });
      for (const network of Object.values(networks)) host.removeDir(network.dataDir);
    }
  } finally {
    host.deleteNamespaces([netnsPath!]);
  }
  const first = counts[0]!;
  const last = counts[counts.length - 1]!;
  return {
    counts,
    growth: {
      reference: last.del.reference.median / first.del.reference.median,
      ours: last.del.ours.median / first.del.ours.median,
      from: first.leases,
      to: last.leases,
    },
  };
}

async function addThenDelete(suite: Suite, network: BenchNetwork, attachment: Attachment): Promise<{ add: number; del: number }> {
  const add = await addList(suite, network.list, attachment);
  const del = await delList(suite, network.list, attachment, add.result);
  return { add: add.wallMs, del: del.wallMs };
}

/**
 * Writes `count` leases held by other containers, from the subnet's 10th address on, as the
 * reference host-local writes them, and records the last one as last reserved.
 */
function prefill(network: BenchNetwork, count: number): void {
  const dir = join(network.dataDir, network.list.name);
  mkdirSync(dir, { recursive: true });
  const [a, b] = network.subnet.split(".").map(Number) as [number, number];
  let last = "";
  for (let index = 0; index < count; index++) {
    const offset = 10 + index;
    last = `${a}.${b}.${offset >> 8}.${offset & 255}`;
    writeFileSync(join(dir, last), `prefill${index}\r\neth0`, { mode: 0o600 });
  }
  if (last) writeFileSync(join(dir, "last_reserved_ip.0"), last, { mode: 0o600 });
}
