import { Cidr } from "../ip/index.ts";
import { InstallError } from "./errors.ts";
import { inClusterAccess, nodePodCidrs } from "./kubernetes.ts";

/** The node's pod CIDRs and where they came from (printed, so the log shows which source won). */
export interface PodCidrs {
  cidrs: string[];
  source: string;
}

export interface PodCidrSources {
  /** --pod-cidr: one CIDR, or one per family separated by a comma. */
  flag?: string;
  env: NodeJS.ProcessEnv;
  nodeName?: string;
  serviceAccountDir: string;
}

/** The first of: the flag, the POD_CIDR variable, the Node object from the API server. */
export async function resolvePodCidrs(sources: PodCidrSources): Promise<PodCidrs> {
  if (sources.flag) return { cidrs: parseCidrList(sources.flag, "--pod-cidr"), source: "--pod-cidr" };
  if (sources.env.POD_CIDR) return { cidrs: parseCidrList(sources.env.POD_CIDR, "POD_CIDR"), source: "POD_CIDR" };
  const access = inClusterAccess(sources.env, sources.serviceAccountDir);
  if (!sources.nodeName) {
    throw new InstallError("no pod CIDR given and no node to look it up for: set NODE_NAME (from the pod's spec.nodeName) or pass --node-name");
  }
  const cidrs = await nodePodCidrs(access, sources.nodeName);
  return { cidrs: parseCidrList(cidrs.join(","), `node ${sources.nodeName}'s spec.podCIDRs`), source: `the Node object ${sources.nodeName} at ${access.server}` };
}

/** "10.244.1.0/24" or "10.244.1.0/24,fd00:10:244:1::/64": networks, at most one per family. */
function parseCidrList(text: string, where: string): string[] {
  const entries = text.split(",").map((entry) => entry.trim());
  const families = new Set<number>();
  for (const entry of entries) {
    const cidr = Cidr.tryParse(entry);
    if (!cidr) throw new InstallError(`${where}: "${entry}" is not a CIDR (like 10.244.1.0/24)`);
    if (cidr.hasHostBits) throw new InstallError(`${where}: "${entry}" has host bits set; the network is ${cidr.network}/${cidr.prefixLength}`);
    if (families.has(cidr.family)) throw new InstallError(`${where}: "${text}" has two IPv${cidr.family} CIDRs; give at most one per family`);
    families.add(cidr.family);
  }
  return entries;
}
