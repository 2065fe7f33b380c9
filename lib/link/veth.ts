import { CniError, ErrorCode, invalidEnvironment } from "../core/index.ts";
import { isExists, type Link } from "../netlink/index.ts";
import type { Rollback } from "../skel/index.ts";
import type { Attachment } from "./attachment.ts";
import { createLink } from "./create.ts";
import { randomLinkName } from "./names.ts";

export interface VethPairSpec {
  /** The container end's name (CNI_IFNAME); it must not exist in the container yet (code 4). */
  containerIfname: string;
  /** The host end's name; by default a random "<hostNamePrefix><8 hex digits>", retried when taken. */
  hostName?: string;
  /** Default "veth", as the reference. */
  hostNamePrefix?: string;
  /** MTU of both ends; undefined or 0: the kernel's default. */
  mtu?: number;
  /** MAC of the container end; the kernel picks a random one when unset. */
  containerMac?: string;
}

/** Both ends of a veth pair, as read back after creation. */
export interface VethPair {
  host: Link;
  container: Link;
}

const NAME_ATTEMPTS = 10;

/**
 * Creates a veth pair with its container end made directly inside `netns` (no create-then-move)
 * and its host end in the host namespace, both down. A failed ADD deletes the pair again
 * (`rollback`). For a pair whose both ends stay on the host, pass the host namespace and the
 * host socket as `netns` and `container`.
 */
export function createVethPair(sides: Attachment, spec: VethPairSpec, rollback: Rollback): VethPair {
  const { host, netns, container } = sides;
  const ifname = spec.containerIfname;
  if (container.linkByName(ifname)) throw invalidEnvironment("CNI_IFNAME", `interface ${ifname} already exists in the container`);
  const mtu = spec.mtu || undefined;
  const hostName = createWithFreeName(
    spec,
    (name) => createLink(host, { kind: "veth", name, mtu, peer: { name: ifname, mtu, mac: spec.containerMac, netnsFd: netns.fd } }),
    (name) => host.linkByName(name) !== undefined,
  );
  const hostEnd = host.linkByName(hostName);
  const containerEnd = container.linkByName(ifname);
  if (!hostEnd || !containerEnd) {
    throw new CniError(ErrorCode.KernelOperationFailed, `veth pair ${hostName} / ${ifname} vanished right after it was created`);
  }
  // Deleting one end deletes the pair.
  rollback.add(`veth ${hostName}`, () => host.deleteLink(hostEnd.index));
  return { host: hostEnd, container: containerEnd };
}

/** Runs `create` with the fixed host name, or with random ones until one is free. Returns the name used. */
function createWithFreeName(spec: VethPairSpec, create: (name: string) => void, isTaken: (name: string) => boolean): string {
  if (spec.hostName !== undefined) {
    create(spec.hostName);
    return spec.hostName;
  }
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const name = randomLinkName(spec.hostNamePrefix);
    try {
      create(name);
      return name;
    } catch (error) {
      // EEXIST also answers a container name taken meanwhile: only a taken host name is retried.
      if (!(isExists(error) && isTaken(name))) throw error;
    }
  }
  throw new CniError(ErrorCode.TryAgainLater, `could not find a free host-side veth name after ${NAME_ATTEMPTS} attempts`);
}
