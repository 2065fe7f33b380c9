import { z } from "zod";
import {
  DEFAULT_ADMIN_CHAIN,
  DEFAULT_FIREWALLD_ZONE,
  FORWARD_BACKENDS,
  FORWARD_CHAIN,
  type ForwardBackendName,
  type IsolationPolicy,
} from "../../lib/firewall/index.ts";
import { netConfSchema, parseWithSchema, type NetConf } from "../../lib/skel/index.ts";

/** iptables takes chain names of up to 28 characters that do not look like an option or a negation. */
const chainName = z
  .string()
  .max(28, "an iptables chain name is at most 28 characters")
  .regex(/^([^\s"'!-][^\s"']*)?$/, "must be an iptables chain name: no spaces or quotes, not starting with '-' or '!'")
  .refine((name) => name !== FORWARD_CHAIN && name !== "FORWARD", {
    message: `must not be ${FORWARD_CHAIN} or FORWARD: the admin chain is jumped to from ${FORWARD_CHAIN}`,
  });

export const INGRESS_POLICIES = ["open", "same-bridge", "isolated"] as const;
export type IngressPolicy = (typeof INGRESS_POLICIES)[number];

const oneOf = (values: readonly string[]) => values.map((value) => `"${value}"`).join(", ");

/**
 * The reference reads these keys into Go strings, where null, "" and a missing key are all the
 * zero value, meaning "use the default"; so they do here.
 */
export const firewallConfigSchema = netConfSchema.extend({
  backend: z
    .enum([...FORWARD_BACKENDS, ""], { error: `must be one of ${oneOf(FORWARD_BACKENDS)}` })
    .nullish()
    .describe('Firewall to add the rules to: "iptables" or "firewalld" (unset: firewalld when it is running, else iptables)'),
  iptablesAdminChainName: chainName
    .nullish()
    .describe(`iptables: the administrator's chain, jumped to first from ${FORWARD_CHAIN} (default ${DEFAULT_ADMIN_CHAIN})`),
  firewalldZone: z
    .string()
    .regex(/^\S*$/, "must be a firewalld zone name")
    .nullish()
    .describe(`firewalld: the zone the container's addresses are added to (default ${DEFAULT_FIREWALLD_ZONE})`),
  ingressPolicy: z
    .enum([...INGRESS_POLICIES, ""], { error: `must be one of ${oneOf(INGRESS_POLICIES)}` })
    .nullish()
    .describe('Who may reach the container: "open" (default), "same-bridge" (not other bridges), "isolated" (not even its own bridge)'),
});

export type FirewallConfigInput = z.infer<typeof firewallConfigSchema>;

/** The configuration with every default applied, as every command uses it. */
export interface FirewallConfig extends NetConf {
  backend: ForwardBackendName | undefined;
  adminChain: string;
  firewalldZone: string;
  ingressPolicy: IngressPolicy;
}

export function parseFirewallConfig(raw: Record<string, unknown>): FirewallConfig {
  const input = parseWithSchema(firewallConfigSchema, raw);
  return {
    cniVersion: input.cniVersion,
    name: input.name,
    type: input.type,
    backend: input.backend || undefined,
    adminChain: input.iptablesAdminChainName || DEFAULT_ADMIN_CHAIN,
    firewalldZone: input.firewalldZone || DEFAULT_FIREWALLD_ZONE,
    ingressPolicy: input.ingressPolicy || "open",
  };
}

/** The isolation policy, or undefined for "open". */
export function isolationPolicy(config: FirewallConfig): IsolationPolicy | undefined {
  return config.ingressPolicy === "open" ? undefined : config.ingressPolicy;
}
