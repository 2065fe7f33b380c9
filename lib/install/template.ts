import { networkConfigListFromBytes, type NetworkConfigList } from "../runtime/index.ts";
import { InstallError } from "./errors.ts";

/**
 * The node's configuration list is written from a template: JSON with placeholders that the
 * installer fills in with what differs between nodes. A placeholder is replaced as text, so it
 * may stand inside a string ("__POD_CIDR__") or for a whole value (__POD_CIDR_RANGES__).
 */

/** What a node's template is filled in with. */
export interface NodeValues {
  /** The node's pod CIDRs, one per address family (Node.spec.podCIDRs). */
  podCidrs?: readonly string[];
  nodeName?: string;
}

interface Placeholder {
  /** What it stands for, for the usage text and the README. */
  meaning: string;
  needs: "podCidrs" | "nodeName";
  value(values: Required<NodeValues>): string;
}

/** The text of `value` inside a JSON string. */
const inString = (value: string) => JSON.stringify(value).slice(1, -1);

export const PLACEHOLDERS: Readonly<Record<string, Placeholder>> = {
  __POD_CIDR__: {
    meaning: "the node's (first) pod CIDR, inside a string",
    needs: "podCidrs",
    value: ({ podCidrs }) => inString(podCidrs[0]!),
  },
  __POD_CIDR_RANGES__: {
    meaning: 'host-local `ranges`: one range set per pod CIDR, e.g. [[{"subnet":"10.244.1.0/24"}]]',
    needs: "podCidrs",
    value: ({ podCidrs }) => JSON.stringify(podCidrs.map((subnet) => [{ subnet }])),
  },
  __NODE_NAME__: {
    meaning: "the node's name, inside a string",
    needs: "nodeName",
    value: ({ nodeName }) => inString(nodeName),
  },
};

const PLACEHOLDER_PATTERN = /__[A-Z0-9]+(?:_[A-Z0-9]+)*__/g;

/**
 * The built-in template (the same as deploy/kubernetes's ConfigMap): a bridge on each node with
 * the node's pod CIDR, host-port mappings and bandwidth limits. No masquerading: pod-to-pod
 * traffic between nodes keeps its source address; traffic leaving the cluster is the node's to
 * masquerade (kube-proxy's --cluster-cidr, ip-masq-agent).
 */
export const DEFAULT_TEMPLATE = `{
  "cniVersion": "1.0.0",
  "name": "cni-ts",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "isDefaultGateway": true,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": __POD_CIDR_RANGES__ }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "bandwidth", "capabilities": { "bandwidth": true } }
  ]
}
`;

/** Which values the template needs (so the pod CIDR is looked up only when it is used). */
export function valuesNeeded(template: string, source: string): Set<Placeholder["needs"]> {
  return new Set(placeholdersIn(template, source).map((name) => PLACEHOLDERS[name]!.needs));
}

/**
 * Fills the template in and checks the result is a configuration list a runtime loads; returns
 * it as the file's text (indented JSON, so that the same input always gives the same bytes).
 */
export function renderTemplate(template: string, values: NodeValues, source: string): { text: string; list: NetworkConfigList } {
  const names = placeholdersIn(template, source);
  for (const name of names) {
    const needs = PLACEHOLDERS[name]!.needs;
    if (needs === "podCidrs" ? !values.podCidrs?.length : !values.nodeName) {
      throw new InstallError(`${source} uses ${name}, but no ${needs === "podCidrs" ? "pod CIDR" : "node name"} is known`);
    }
  }
  const complete = { podCidrs: values.podCidrs ?? [], nodeName: values.nodeName ?? "" };
  const filled = template.replace(PLACEHOLDER_PATTERN, (name) => PLACEHOLDERS[name]!.value(complete));
  let parsed: unknown;
  try {
    parsed = JSON.parse(filled);
  } catch (error) {
    throw new InstallError(`${source}, filled in, is not JSON: ${(error as Error).message}`);
  }
  const text = `${JSON.stringify(parsed, null, 2)}\n`;
  let list: NetworkConfigList;
  try {
    list = networkConfigListFromBytes(text, source);
  } catch (error) {
    throw new InstallError(`${source} is not a valid configuration list: ${(error as Error).message}`);
  }
  if (list.plugins.length === 0) throw new InstallError(`${source}: plugins: must name at least one plugin`);
  return { text, list };
}

function placeholdersIn(template: string, source: string): string[] {
  const names = [...new Set(template.match(PLACEHOLDER_PATTERN) ?? [])];
  const unknown = names.filter((name) => !Object.hasOwn(PLACEHOLDERS, name));
  if (unknown.length > 0) {
    throw new InstallError(`${source}: unknown placeholder ${unknown.join(", ")} (known: ${Object.keys(PLACEHOLDERS).join(", ")})`);
  }
  return names;
}
