import { z } from "zod";
import {
  CniError,
  ErrorCode,
  findDuplicateKeys,
  invalidConfig,
  netConfSchema,
  parseWithSchema,
  type CniArgs,
  type ConfigContext,
  type NetConf,
} from "../../lib/skel/index.ts";
import { parseMac } from "./mac.ts";
import { sysctlPath } from "./sysctl-key.ts";

/**
 * tuning's configuration: the schema of what users write (exported for JSON Schema generation)
 * and its resolution, with every source of a setting in the reference's order of precedence,
 * into the settings ADD applies and CHECK verifies.
 */

export const DEFAULT_DATA_DIR = "/run/cni/tuning";

const sysctlMap = z
  .record(z.string(), z.string())
  .nullish()
  .describe('Sysctls to set in the container namespace: key ("net.core.somaxconn", "net.ipv4.conf.IFNAME.arp_notify") -> value');
const mac = z
  .string()
  .nullish()
  .describe('MAC address for the interface ("c2:b0:57:49:47:f1"; "-" separators and "c2b0.5749.47f1" also accepted)');
const promisc = z.boolean().nullish().describe("true: turn promiscuous mode on (false does nothing)");
const mtu = z.number().int().min(0).max(2 ** 31 - 1).nullish().describe("MTU for the interface (0: leave it)");
const txQLen = z.number().int().min(0).max(2 ** 32 - 1).nullish().describe("Transmit queue length for the interface");
const allmulti = z.boolean().nullish().describe("Turn all-multicast mode on (true) or off (false)");

export const tuningConfigSchema = netConfSchema.extend({
  sysctl: sysctlMap,
  mac,
  promisc,
  mtu,
  txQLen,
  allmulti,
  dataDir: z
    .string()
    .nullish()
    .describe(`Directory for the interface's original settings, restored on DEL (default ${DEFAULT_DATA_DIR})`),
  runtimeConfig: z
    .looseObject({ mac: z.string().nullish().describe("The mac capability: MAC address for the interface") })
    .optional(),
  args: z
    .looseObject({
      cni: z
        .looseObject({ sysctl: sysctlMap, mac, promisc, mtu, txQLen, allmulti })
        .nullish()
        .describe("Per-container overrides of the keys of the same name (args.cni.sysctl adds to sysctl)"),
    })
    .optional(),
});

export type TuningConfigInput = z.infer<typeof tuningConfigSchema>;

/**
 * What every command works with. DEL, GC and STATUS only need the data directory, so they read
 * nothing else, and a configuration that ADD refused can still be cleaned up.
 */
export interface TuningNetConf extends NetConf {
  dataDir: string;
  /** GC only: whether the request listed its valid attachments at all. */
  listsValidAttachments: boolean;
  /** ADD and CHECK: what to set and verify; nothing for the other commands. */
  settings: TuningSettings;
}

const commonSchema = netConfSchema.extend({ dataDir: z.string().nullish() });

export function parseTuningConfig(raw: Record<string, unknown>, context: ConfigContext): TuningNetConf {
  const config = parseWithSchema(commonSchema, raw);
  const applies = (context.command === "ADD" || context.command === "CHECK") && context.attachment;
  return {
    ...config,
    dataDir: config.dataDir || DEFAULT_DATA_DIR,
    listsValidAttachments: raw["cni.dev/valid-attachments"] !== undefined,
    settings: applies
      ? resolveTuningSettings(config, applies.args, applies.ifname, context.stdin.toString("utf8"))
      : { sysctls: [], link: {} },
  };
}

/** One sysctl to set: the key as configured, its path below /proc/sys and the value. */
export interface Sysctl {
  key: string;
  path: string;
  value: string;
}

/** The interface settings ADD changes and DEL restores. */
export interface LinkSettings {
  mac?: string;
  /** Only `true` is a setting: the reference never turns promiscuous mode off. */
  promisc?: true;
  mtu?: number;
  allmulti?: boolean;
  txQLen?: number;
}

export interface TuningSettings {
  /** In the order configured, args.cni.sysctl last. */
  sysctls: Sysctl[];
  link: LinkSettings;
}

/** The CNI_ARGS key the reference reads a MAC from. */
const CNI_ARGS_MAC = "MAC";

/**
 * Resolves the configuration of an ADD or CHECK for one interface. Each setting comes from the
 * last of these that gives it, as in the reference: the configuration key, then (MAC only)
 * CNI_ARGS MAC and the mac capability, then args.cni. Code 7 names what is wrong.
 */
export function resolveTuningSettings(config: NetConf, args: CniArgs, ifname: string, stdinText: string): TuningSettings {
  refuseDuplicateKeys(stdinText);
  const input = parseWithSchema(tuningConfigSchema, config);
  args.requireKnown([CNI_ARGS_MAC]);
  const overrides = input.args?.cni ?? {};

  const promiscOn = overrides.promisc ?? input.promisc ?? false;
  const link: LinkSettings = dropUnset({
    mac: resolveMac(input, args),
    promisc: promiscOn ? (true as const) : undefined,
    mtu: (overrides.mtu ?? input.mtu) || undefined,
    allmulti: overrides.allmulti ?? input.allmulti ?? undefined,
    txQLen: overrides.txQLen ?? input.txQLen ?? undefined,
  });
  return { sysctls: resolveSysctls({ ...input.sysctl, ...overrides.sysctl }, ifname), link };
}

function resolveMac(input: TuningConfigInput, args: CniArgs): string | undefined {
  // Later entries win; CNI_ARGS and the capability only when non-empty, args.cni.mac whenever given.
  const sources: [field: string, value: string | null | undefined][] = [
    ["mac", input.mac],
    [`CNI_ARGS ${CNI_ARGS_MAC}`, args.get(CNI_ARGS_MAC) || undefined],
    ["runtimeConfig.mac", input.runtimeConfig?.mac || undefined],
    ["args.cni.mac", input.args?.cni?.mac],
  ];
  const [field, value] = sources.filter(([, candidate]) => candidate !== undefined && candidate !== null).at(-1) ?? [];
  if (field === undefined || !value) return undefined;
  const parsed = parseMac(value);
  if (!parsed) throw invalidConfig(field, value, "must be a MAC address like c2:b0:57:49:47:f1");
  return parsed;
}

function resolveSysctls(entries: Record<string, string>, ifname: string): Sysctl[] {
  const byPath = new Map<string, Sysctl>();
  for (const [key, value] of Object.entries(entries)) {
    const sysctl = { key, path: sysctlPath(key, ifname), value };
    const earlier = byPath.get(sysctl.path);
    if (earlier && earlier.value !== value) {
      throw new CniError(
        ErrorCode.InvalidConfig,
        `invalid config: sysctl keys ${JSON.stringify(earlier.key)} and ${JSON.stringify(key)} both name ${sysctl.path} with different values (${JSON.stringify(earlier.value)}, ${JSON.stringify(value)})`,
      );
    }
    byPath.set(sysctl.path, sysctl);
  }
  return [...byPath.values()];
}

/**
 * The objects whose keys tuning reads; a key twice in one of them is ambiguous (the reference
 * refuses a sysctl given twice). Every prefix of one is one too, as findDuplicateKeys needs.
 */
const READ_OBJECTS = new Set(["", "sysctl", "args", "args.cni", "args.cni.sysctl", "runtimeConfig"]);

function refuseDuplicateKeys(stdinText: string): void {
  const [duplicate] = findDuplicateKeys(stdinText, (path) => READ_OBJECTS.has(path.join(".")));
  if (duplicate) {
    const where = duplicate.length === 1 ? "the configuration" : duplicate.slice(0, -1).join(".");
    throw new CniError(ErrorCode.InvalidConfig, `invalid config: ${where} has the key ${JSON.stringify(duplicate.at(-1))} twice; keys must be unique`);
  }
}

function dropUnset<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
