/**
 * Churn: `churnContainers` containers attached and detached with `churnParallel` operations in
 * flight at once, on bridge + host-local. Container i is deleted right after container
 * i + churnHeld was added, so about churnHeld stay attached throughout; the subnet is a /26, so
 * addresses are handed out again many times while others are still held. Every address an ADD
 * returns is checked against those held at that moment: one handed out twice is a duplicate.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { progress, type BenchContext } from "../context.ts";
import { addList, delList, type Suite } from "../driver.ts";
import { bridgeNetwork, type BenchNetwork } from "../networks.ts";
import { summarize, type Summary } from "../stats.ts";

/** /26: 61 usable addresses after the gateway, well above the containers held at once. */
const CHURN_PREFIX = 26;

export interface ChurnRound {
  seconds: number;
  containersPerSecond: number;
  addressesHandedOut: number;
  distinctAddresses: number;
  /** An address returned by ADD while another container still held it. */
  duplicates: string[];
  maxHeld: number;
  /** Lease files left in the data directory after every DEL (should be none). */
  leasesLeft: number;
  failures: string[];
}

export interface ChurnResult {
  containers: number;
  parallel: number;
  held: number;
  reference: ChurnRound[];
  ours: ChurnRound[];
  throughput: { reference: Summary; ours: Summary; ratio: number };
}

export async function runChurn(context: BenchContext): Promise<ChurnResult> {
  const { options } = context;
  const result: ChurnResult = {
    containers: options.churnContainers,
    parallel: options.churnParallel,
    held: options.churnHeld,
    reference: [],
    ours: [],
    throughput: { reference: summarize([]), ours: summarize([]), ratio: Number.NaN },
  };
  progress(`churn: ${options.churnContainers} containers, ${options.churnParallel} in flight, ${options.churnHeld} held, ${options.churnRounds} round(s)`);
  for (let round = 0; round < options.churnRounds; round++) {
    for (const suite of [context.reference, context.ours]) {
      const network = bridgeNetwork({ host: context.host, subnets: context.subnets, label: `churn-${suite.id}`, prefix: CHURN_PREFIX });
      const outcome = await churnRound(context, suite, network);
      result[suite.id].push(outcome);
      progress(`  ${suite.id}: ${outcome.containersPerSecond.toFixed(1)} containers/s, ${outcome.duplicates.length} duplicates, ${outcome.failures.length} failures`);
      context.host.removeDir(network.dataDir);
    }
  }
  const rates = (side: "reference" | "ours") => result[side].map((round) => round.containersPerSecond);
  const reference = summarize(rates("reference"));
  const ours = summarize(rates("ours"));
  result.throughput = { reference, ours, ratio: ours.median / reference.median };
  return result;
}

async function churnRound(context: BenchContext, suite: Suite, network: BenchNetwork): Promise<ChurnRound> {
  const { churnContainers: count, churnParallel: parallel, churnHeld: held } = context.options;
  const netnsPaths = context.host.createNamespaces(count);
  const ids = Array.from({ length: count }, () => context.host.uniqueName("c"));
  const results: (Record<string, unknown> | undefined)[] = [];
  const added: Promise<void>[] = [];
  const resolveAdded: (() => void)[] = [];
  for (let index = 0; index < count; index++) added.push(new Promise((resolve) => resolveAdded.push(resolve)));

  const holders = new Map<string, string>();
  const handedOut: string[] = [];
  const duplicates: string[] = [];
  const failures: string[] = [];
  let maxHeld = 0;

  // The operations in order: ADD i, then (once held containers are attached) DEL i - held.
  const operations: { kind: "ADD" | "DEL"; index: number }[] = [];
  for (let step = 0; step < count + held; step++) {
    if (step < count) operations.push({ kind: "ADD", index: step });
    if (step >= held) operations.push({ kind: "DEL", index: step - held });
  }
  const attachment = (index: number) => ({ containerId: ids[index]!, netns: netnsPaths[index]!, ifName: "eth0" });

  const worker = async () => {
    for (let operation = operations.shift(); operation; operation = operations.shift()) {
      const { kind, index } = operation;
      try {
        if (kind === "ADD") {
          try {
            const add = await addList(suite, network.list, attachment(index));
            results[index] = add.result;
            for (const address of addressesOf(add.result)) {
              handedOut.push(address);
              const holder = holders.get(address);
              if (holder !== undefined) duplicates.push(`${address} given to ${ids[index]} while ${holder} held it`);
              holders.set(address, ids[index]!);
            }
            maxHeld = Math.max(maxHeld, holders.size);
          } finally {
            resolveAdded[index]!();
          }
        } else {
          await added[index];
          for (const address of addressesOf(results[index])) if (holders.get(address) === ids[index]) holders.delete(address);
          await delList(suite, network.list, attachment(index), results[index]);
        }
      } catch (error) {
        failures.push(`${kind} ${ids[index]}: ${(error as Error).message}`);
      }
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: parallel }, worker));
  const seconds = (performance.now() - started) / 1000;
  context.host.deleteNamespaces(netnsPaths);
  return {
    seconds,
    containersPerSecond: count / seconds,
    addressesHandedOut: handedOut.length,
    distinctAddresses: new Set(handedOut).size,
    duplicates,
    maxHeld,
    leasesLeft: leaseFiles(join(network.dataDir, network.list.name)).length,
    failures,
  };
}

function addressesOf(result: Record<string, unknown> | undefined): string[] {
  const ips = (result?.ips ?? []) as { address?: string }[];
  return ips.map((ip) => ip.address?.split("/")[0] ?? "").filter((address) => address !== "");
}

/** Files named like an IPv4 address: host-local's leases. */
function leaseFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name));
  } catch {
    return [];
  }
}
