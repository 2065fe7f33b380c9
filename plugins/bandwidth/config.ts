import { z } from "zod";
import { type ConfigContext, invalidConfig, netConfSchema, parseWithSchema, type NetConf } from "../../lib/skel/index.ts";
import { type PschedClock, readPschedClock, type TbfParameters, tbfParameters } from "../../lib/tc/index.ts";

/**
 * bandwidth's configuration: the schema of what users write (exported for JSON Schema
 * generation), and its resolution into the tbf qdiscs to build, with the reference's rules.
 */

const bits = (meaning: string) =>
  z
    .number()
    .min(0, "must not be negative")
    // Larger numbers lose digits in JSON.parse (Go reads up to 2^64 - 1, but no shaping needs that).
    .max(Number.MAX_SAFE_INTEGER, `must be at most ${Number.MAX_SAFE_INTEGER}`)
    .int("must be a whole number")
    .nullish()
    .describe(meaning);

const entryShape = {
  ingressRate: bits("Rate of traffic into the container, in bits per second (0: not shaped)"),
  ingressBurst: bits("Burst of traffic into the container, in bits"),
  egressRate: bits("Rate of traffic out of the container, in bits per second (0: not shaped)"),
  egressBurst: bits("Burst of traffic out of the container, in bits"),
};

export const bandwidthConfigSchema = netConfSchema.extend({
  ...entryShape,
  runtimeConfig: z
    .looseObject({
      bandwidth: z
        .looseObject(entryShape)
        .nullish()
        .describe("Capability `bandwidth`: used when the configuration itself sets none of the four keys"),
    })
    .optional(),
});

export type BandwidthConfigInput = z.infer<typeof bandwidthConfigSchema>;

/** The configuration as every command works with it. */
export interface BandwidthConfig extends NetConf {
  /** The shaping ADD builds and CHECK verifies; empty on DEL, STATUS and GC, which need none. */
  plan: BandwidthPlan;
}

type Entry = z.infer<z.ZodObject<typeof entryShape>>;
const ENTRY_KEYS = Object.keys(entryShape) as (keyof Entry)[];

export function parseBandwidthConfig(raw: Record<string, unknown>, context: Pick<ConfigContext, "command">): BandwidthConfig {
  if (context.command === "DEL") {
    // DEL needs only the network name (for the ifb's): a rate that has since become invalid
    // must not keep it from cleaning up.
    const { cniVersion, name, type } = parseWithSchema(netConfSchema, raw);
    return { cniVersion, name, type, plan: {} };
  }
  const input = parseBandwidthInput(raw);
  const shapes = context.command === "ADD" || context.command === "CHECK";
  return { ...input, plan: shapes ? resolveBandwidth(input, readPschedClock()) : {} };
}

/** The configuration as written, checked against the schema only. */
export function parseBandwidthInput(raw: Record<string, unknown>): BandwidthConfigInput {
  return parseWithSchema(bandwidthConfigSchema, raw);
}

/** The shaping to build: a tbf per direction that has a rate, with what it was asked as. */
export interface BandwidthPlan {
  /** Traffic into the container: a tbf at the root of the host-side veth. */
  ingress?: DirectionPlan;
  /** Traffic out of the container: redirected to an ifb device with this tbf at its root. */
  egress?: DirectionPlan;
}

export interface DirectionPlan {
  /** Where the rate came from, for messages: "ingressRate" or "runtimeConfig.bandwidth.ingressRate". */
  rateField: string;
  rateBits: number;
  burstBits: number;
  tbf: TbfParameters;
}

/** The queueing latency the reference gives every tbf; with the rate it sizes the queue (limit). */
const LATENCY_US = 25_000;
/** The reference refuses bursts whose byte count reaches 2^32 - 1 ("burst cannot be more than 4GB"). */
const MAX_BURST_BYTES = 0xffffffff - 1;

/**
 * Picks the bandwidth entry as the reference does: the configuration's own keys when any of the
 * four is present (even 0), otherwise runtimeConfig.bandwidth. Then each direction is checked
 * (code 7 naming the field): rate and burst come together, the burst stays below 4 GB, and
 * both are large enough for tbf to represent (at least a byte, a microsecond of buffer).
 */
export function resolveBandwidth(config: BandwidthConfigInput, clock: PschedClock): BandwidthPlan {
  const ownKeys = ENTRY_KEYS.some((key) => key in config);
  const runtime = config.runtimeConfig?.bandwidth;
  const [entry, prefix]: [Entry, string] = ownKeys || !runtime ? [config, ""] : [runtime, "runtimeConfig.bandwidth."];
  const plan: BandwidthPlan = {};
  const ingress = planDirection(entry, "ingress", prefix, clock);
  const egress = planDirection(entry, "egress", prefix, clock);
  if (ingress) plan.ingress = ingress;
  if (egress) plan.egress = egress;
  return plan;
}

function planDirection(entry: Entry, direction: "ingress" | "egress", prefix: string, clock: PschedClock): DirectionPlan | undefined {
  const rateKey = `${direction}Rate` as const;
  const burstKey = `${direction}Burst` as const;
  const rateField = `${prefix}${rateKey}`;
  const burstField = `${prefix}${burstKey}`;
  const rateBits = entry[rateKey] ?? 0;
  const burstBits = entry[burstKey] ?? 0;
  if (rateBits === 0 && burstBits === 0) return undefined;
  if (burstBits === 0) throw invalidConfig(burstField, entry[burstKey], `${rateKey} is set, so ${burstKey} must be set too`);
  if (rateBits === 0) throw invalidConfig(rateField, entry[rateKey], `${burstKey} is set, so ${rateKey} must be set too`);

  const burstBytes = Math.floor(burstBits / 8);
  const rateBytes = Math.floor(rateBits / 8);
  if (burstBytes > MAX_BURST_BYTES) {
    throw invalidConfig(burstField, burstBits, `must be below ${(MAX_BURST_BYTES + 1) * 8} bits (4 GB): tbf counts the burst in 32-bit bytes`);
  }
  if (rateBytes === 0) throw invalidConfig(rateField, rateBits, "must be at least 8 bits per second: tbf counts whole bytes");
  if (burstBytes === 0) throw invalidConfig(burstField, burstBits, "must be at least 8 bits: tbf counts whole bytes");
  const tbf = tbfParameters({ rateBytes, burstBytes, latencyUs: LATENCY_US }, clock);
  if (tbf.buffer === 0) {
    throw invalidConfig(burstField, burstBits, `lasts less than a microsecond at ${rateKey}=${rateBits}: the kernel would refuse an empty bucket`);
  }
  return { rateField, rateBits, burstBits, tbf };
}
