/**
 * The podman chain (bridge + host-local, portmap, firewall, tuning) plus bandwidth, as the
 * kill, soak and parallel phases run it: the configuration list, its world, and a driver that
 * does a runtime's job (SPEC.md section 3) with lib/runtime's derivation, starting each plugin
 * in the world's host namespace. Only the plugins are processes: the driver keeps no cache.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { deriveAttachmentConfig, networkConfigListFromBytes, type NetworkConfigList } from "../../lib/runtime/index.ts";
import type { WireResult } from "../../lib/types/convert.ts";
import { classify } from "./classify.ts";
import type { TortureRun } from "./world.ts";
import { World, type Suite } from "./world.ts";

export const CHAIN = ["bridge", "portmap", "firewall", "tuning", "bandwidth"] as const;

/** A world with the chain's configuration list written to a file (the kill phase's runtime reads it). */
export interface ChainWorld {
  world: World;
  list: NetworkConfigList;
  listFile: string;
}

export async function createChainWorld(run: TortureRun, suite: Suite): Promise<ChainWorld> {
  const world = await World.create(run, suite, run.nextWorldIndex(), "main");
  const { network, bridge, dataDir } = world.context;
  // A /20 of its own (the host namespace is the world's alone): the parallel phase holds 64 attachments at once.
  const subnet = `10.${100 + (world.index % 150)}.0.0/20`;
  const bytes = Buffer.from(
    JSON.stringify({
      cniVersion: "0.4.0",
      name: network,
      plugins: [
        {
          type: "bridge",
          bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: "host-local", dataDir, ranges: [[{ subnet }]], routes: [{ dst: "0.0.0.0/0" }] },
        },
        { type: "portmap", capabilities: { portMappings: true } },
        { type: "firewall" },
        { type: "tuning", dataDir, mtu: 1400, sysctl: { "net.core.somaxconn": "512" } },
        { type: "bandwidth", capabilities: { bandwidth: true } },
      ],
    }),
  );
  const listFile = join(world.dir, "chain.conflist");
  writeFileSync(listFile, bytes);
  return { world, list: networkConfigListFromBytes(bytes), listFile };
}

/** The capability arguments of one attachment: a published port and a rate limit. */
export function capabilityArgs(hostPort: number): Record<string, unknown> {
  return {
    portMappings: [{ hostPort, containerPort: 80, protocol: "tcp" }],
    bandwidth: { ingressRate: 100_000_000, ingressBurst: 1_000_000, egressRate: 100_000_000, egressBurst: 1_000_000 },
  };
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifname: string;
  capabilityArgs: Record<string, unknown>;
}

export interface ChainRun {
  ok: boolean;
  /** ADD: the last plugin's result. */
  result?: WireResult;
  /** The first failure, as "<plugin> <command>: <answer>". */
  failure?: string;
  /** Peak RSS (KiB) of each plugin process, by plugin. */
  rss: Record<string, number>;
}

/** ADD through the chain in order, each plugin receiving the previous result; stops at the first failure. */
export async function addChain(chain: ChainWorld, attachment: Attachment, timeoutMs: number): Promise<ChainRun> {
  const rss: Record<string, number> = {};
  let result: WireResult | undefined;
  for (const plugin of chain.list.plugins) {
    const stdin = deriveAttachmentConfig(chain.list, plugin, result, attachment.capabilityArgs);
    const run = await chain.world.call(plugin.type, chain.world.env("ADD", attachment.containerId, attachment.netns, attachment.ifname), Buffer.from(stdin), timeoutMs);
    rss[plugin.type] = run.maxRssKiB;
    const verdict = classify("ADD", run);
    if (verdict.class !== "ok") return { ok: false, failure: `${plugin.type} ADD: ${verdict.class}: ${verdict.detail}`, rss };
    result = JSON.parse(run.stdout) as WireResult;
  }
  return { ok: true, result, rss };
}

/** DEL through the chain in reverse order, with `prevResult` (the cached result) or without; runs every plugin. */
export async function delChain(chain: ChainWorld, attachment: Attachment, prevResult: WireResult | undefined, timeoutMs: number): Promise<ChainRun> {
  const rss: Record<string, number> = {};
  const failures: string[] = [];
  for (const plugin of [...chain.list.plugins].reverse()) {
    const stdin = deriveAttachmentConfig(chain.list, plugin, prevResult, attachment.capabilityArgs);
    const run = await chain.world.call(plugin.type, chain.world.env("DEL", attachment.containerId, attachment.netns, attachment.ifname), Buffer.from(stdin), timeoutMs);
    rss[plugin.type] = run.maxRssKiB;
    const verdict = classify("DEL", run);
    if (verdict.class !== "ok") failures.push(`${plugin.type} DEL: ${verdict.class}: ${verdict.detail}`);
  }
  return { ok: failures.length === 0, failure: failures[0], rss };
}
