import { z } from "zod";
import {
  FIREWALL_BACKENDS,
  PORT_PROTOCOLS,
  type FirewallBackendName,
  type PortMapping,
  type PortMapSettings,
} from "../../lib/firewall/index.ts";
import { IPAddress } from "../../lib/ip/index.ts";
import { invalidConfig, netConfSchema, parseWithSchema, type NetConf } from "../../lib/skel/index.ts";

/** The reference's default: Kubernetes uses bits 14 and 15, Calico 20-31. */
const DEFAULT_MARK_MASQ_BIT = 13;

const port = z
  .number()
  .int("must be a whole number")
  .min(1, "must be a port number from 1 to 65535")
  .max(65535, "must be a port number from 1 to 65535");

/** No line breaks: conditions go into iptables-restore and nft scripts, one command a line. */
const condition = z.string().regex(/^[^\n\r]*$/, "must not contain a line break");

/** Go's encoding/json leaves a pointer nil for null, so the reference treats null as unset. */
function nullable<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? undefined);
}

const portMappingSchema = z.object({
  hostPort: port.describe("Port on the host"),
  containerPort: port.describe("Port in the container"),
  protocol: z
    .string()
    .default("tcp")
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(PORT_PROTOCOLS, "must be tcp, udp or sctp"))
    .describe("tcp, udp or sctp (default tcp)"),
  hostIP: z
    .string()
    .optional()
    .refine((value) => !value || IPAddress.tryParse(value) !== undefined, "must be an IPv4 or IPv6 address")
    .transform((value) => (value ? IPAddress.parse(value).toString() : undefined))
    .describe("Forward only traffic to this host address (0.0.0.0 or :: for every address of that family)"),
});

export const portmapConfigSchema = netConfSchema.extend({
  backend: nullable(z.enum(FIREWALL_BACKENDS)).describe("iptables or nftables; chosen as the reference does when unset"),
  snat: nullable(z.boolean()).describe("Masquerade hairpin and localhost traffic to the container (default true)"),
  masqAll: nullable(z.boolean()).describe("Masquerade mapped traffic from every source (default false)"),
  markMasqBit: nullable(z.number().int("must be a whole number").min(0, "must be from 0 to 31").max(31, "must be from 0 to 31")).describe(
    "iptables: the mark bit that asks for masquerading (default 13)",
  ),
  externalSetMarkChain: nullable(
    z.string().regex(/^[^\s!"]{1,28}$/, "must be an iptables chain name (1-28 characters, no spaces)"),
  ).describe("iptables: an existing chain that marks for masquerading, used instead of CNI-HOSTPORT-SETMARK"),
  conditionsV4: nullable(z.array(condition)).describe("Extra IPv4 match conditions, iptables arguments or nft words"),
  conditionsV6: nullable(z.array(condition)).describe("Extra IPv6 match conditions, iptables arguments or nft words"),
  runtimeConfig: z
    .looseObject({ portMappings: nullable(z.array(portMappingSchema)) })
    .optional()
    .describe("The portMappings capability"),
});

export type PortMapConfigInput = z.infer<typeof portmapConfigSchema>;

/** The port mappings with defaults applied and cross-field rules checked, ready to act on. */
export interface PortMapPlan {
  network: string;
  mappings: PortMapping[];
  settings: PortMapSettings;
  /** The configured backend, or the one the backend-specific options point at; undefined: choose. */
  backend: FirewallBackendName | undefined;
}

/** What every command works with: the plan and the keys every configuration has. */
export interface PortMapConfig extends NetConf, PortMapPlan {}

export function parsePortMapConfig(raw: Record<string, unknown>): PortMapConfig {
  const input = parsePortMapInput(raw);
  return { cniVersion: input.cniVersion, name: input.name, type: input.type, ...resolvePortMapConfig(input) };
}

/** The configuration as written, checked against the schema only. */
export function parsePortMapInput(raw: Record<string, unknown>): PortMapConfigInput {
  return parseWithSchema(portmapConfigSchema, raw);
}

export function resolvePortMapConfig(input: PortMapConfigInput): PortMapPlan {
  if (input.markMasqBit !== undefined && input.externalSetMarkChain !== undefined) {
    throw invalidConfig("externalSetMarkChain", input.externalSetMarkChain, `cannot be combined with markMasqBit=${input.markMasqBit}: set one or the other`);
  }
  return {
    network: input.name,
    mappings: (input.runtimeConfig?.portMappings ?? []).map(({ hostIP, ...mapping }) => (hostIP === undefined ? mapping : { ...mapping, hostIP })),
    settings: {
      snat: input.snat ?? true,
      masqAll: input.masqAll ?? false,
      markMasqBit: input.markMasqBit ?? DEFAULT_MARK_MASQ_BIT,
      externalSetMarkChain: input.externalSetMarkChain,
      conditionsV4: input.conditionsV4 ?? [],
      conditionsV6: input.conditionsV6 ?? [],
    },
    backend: backendOf(input),
  };
}

/**
 * The backend the configuration asks for. Options only one backend understands decide when
 * `backend` is unset, as the reference documents (its code instead refuses nftables conditions
 * unless iptables is unusable); they must agree with each other and with `backend`.
 * Conditions are iptables arguments when the first starts with "-" or "!", else nft words.
 */
function backendOf(input: PortMapConfigInput): FirewallBackendName | undefined {
  const implied: [field: string, value: unknown, backend: FirewallBackendName][] = [];
  if (input.externalSetMarkChain !== undefined) implied.push(["externalSetMarkChain", input.externalSetMarkChain, "iptables"]);
  for (const field of ["conditionsV4", "conditionsV6"] as const) {
    const first = input[field]?.[0];
    if (first) implied.push([field, input[field], /^[-!]/.test(first) ? "iptables" : "nftables"]);
  }
  const backend = input.backend ?? implied[0]?.[2];
  const conflict = implied.find(([, , wanted]) => wanted !== backend);
  if (conflict) {
    const [field, value, wanted] = conflict;
    const chosen = input.backend === undefined ? `${implied[0]![0]} is for ${backend}` : `backend is ${backend}`;
    throw invalidConfig(field, value, `is only understood by the ${wanted} backend, but ${chosen}`);
  }
  return backend;
}
