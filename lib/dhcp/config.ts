/**
 * The dhcp plugin's `ipam` keys, read by the plugin (to check them before calling the daemon)
 * and by the daemon (which receives the whole configuration from whichever plugin calls it,
 * ours or the reference's): the daemon's socket, the options to provide and to request, and
 * the metric of the routes.
 */
import { z } from "zod";
import { CniError, ErrorCode, invalidConfig, parseWithSchema } from "../skel/index.ts";
import { KNOWN_OPTION_NAMES, Option, parseOptionName } from "./options.ts";

export const DEFAULT_SOCKET_PATH = "/run/cni/dhcp.sock";
/** Options every request asks for unless `skipDefault` is set: the reference's two, and option 121. */
export const DEFAULT_REQUESTED = [Option.SubnetMask, Option.Router, Option.ClasslessStaticRoutes] as const;
const MAX_OPTION_BYTES = 255;

const optionName = z.union([z.string(), z.number().int()]).transform((value) => String(value));

export const dhcpIpamSchema = z.looseObject({
  type: z.string().describe('The IPAM plugin: "dhcp"'),
  daemonSocketPath: z.string().nullish().describe(`Unix socket of the dhcp daemon (default ${DEFAULT_SOCKET_PATH})`),
  provide: z
    .array(
      z.looseObject({
        option: optionName.describe(`Option to send: a code (0-255) or one of ${KNOWN_OPTION_NAMES.join(", ")}`),
        value: z.string().nullish().describe("The option's value, sent as its bytes"),
        fromArg: z.string().nullish().describe("A CNI_ARGS key whose value is sent (after value, so it wins)"),
      }),
    )
    .nullish()
    .describe("Options the client sends to the server, e.g. host-name"),
  request: z
    .array(
      z.looseObject({
        option: optionName.nullish().describe("Option to ask the server for"),
        skipDefault: z.boolean().nullish().describe("Do not ask for the default options (subnet mask, router, classless static routes)"),
      }),
    )
    .nullish()
    .describe("Options the client asks the server for (the parameter request list)"),
  priority: z.number().int().nullish().describe("Metric of the routes in the result (0: unset)"),
});

export type DhcpIpamInput = z.infer<typeof dhcpIpamSchema>;

/** The configuration parts the daemon acts on. */
export interface DhcpRequestSettings {
  /** Options sent in every request: code and data, in order (later ones replace earlier ones). */
  provide: [code: number, data: Uint8Array][];
  /** The parameter request list (option 55). */
  request: number[];
  priority: number;
}

const configSchema = z.looseObject({ name: z.string(), ipam: dhcpIpamSchema });

/**
 * Reads the network name and the dhcp settings from a whole plugin configuration (as JSON text
 * or parsed). Problems are code 7 naming the field; `cniArgs` is the raw CNI_ARGS, for `fromArg`.
 */
export function readDhcpConfig(raw: unknown, cniArgs: string): { network: string; settings: DhcpRequestSettings; socketPath: string } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CniError(ErrorCode.InvalidConfig, "invalid config: the network configuration must be a JSON object");
  }
  if ((raw as Record<string, unknown>).ipam === undefined && !Object.keys(raw).some((key) => key.toLowerCase() === "ipam")) {
    throw invalidConfig("ipam", undefined, 'the dhcp plugin needs an "ipam" object with "type": "dhcp"');
  }
  const config = parseWithSchema(configSchema, raw);
  const { ipam } = config;
  const args = looseCniArgs(cniArgs);
  const provide: [number, Uint8Array][] = [];
  (ipam.provide ?? []).forEach((entry, index) => {
    const field = `ipam.provide[${index}]`;
    const code = optionCode(entry.option, `${field}.option`);
    if (entry.value) provide.push([code, optionBytes(entry.value, `${field}.value`)]);
    const fromArg = entry.fromArg ?? "";
    if (args.has(fromArg)) provide.push([code, optionBytes(args.get(fromArg)!, `CNI_ARGS ${fromArg} (${field}.fromArg)`)]);
  });
  const request: number[] = [];
  let skipDefault = false;
  (ipam.request ?? []).forEach((entry, index) => {
    if (entry.skipDefault) skipDefault = true;
    if (entry.option === undefined || entry.option === null || entry.option === "") return;
    const code = optionCode(entry.option, `ipam.request[${index}].option`);
    if (!request.includes(code)) request.push(code);
  });
  if (!skipDefault) for (const code of DEFAULT_REQUESTED) if (!request.includes(code)) request.push(code);
  return {
    network: config.name,
    settings: { provide, request, priority: ipam.priority ?? 0 },
    socketPath: ipam.daemonSocketPath || DEFAULT_SOCKET_PATH,
  };
}

function optionCode(text: string, field: string): number {
  const code = parseOptionName(text);
  if (code === undefined) throw invalidConfig(field, text, `not a DHCP option: use a code from 0 to 255 or one of ${KNOWN_OPTION_NAMES.join(", ")}`);
  if (code === Option.Pad || code === Option.End) throw invalidConfig(field, text, `option ${code} carries no value`);
  return code;
}

function optionBytes(value: string, field: string): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  if (bytes.length > MAX_OPTION_BYTES) throw invalidConfig(field, value, `${bytes.length} bytes; an option holds at most ${MAX_OPTION_BYTES}`);
  return bytes;
}

/** CNI_ARGS as the reference's daemon reads it for fromArg: "K=V" pairs, anything else skipped. */
function looseCniArgs(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of text.split(";")) {
    const equals = pair.indexOf("=");
    if (equals >= 0) pairs.set(pair.slice(0, equals), pair.slice(equals + 1));
  }
  return pairs;
}
