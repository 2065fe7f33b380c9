import { CniError, ErrorCode } from "../core/index.ts";
import { Rtnetlink } from "../netlink/index.ts";
import { openCniNetns, type NetNS } from "../netns/index.ts";

/**
 * The attachment context: the three handles an operation on a container works with, opened once
 * (as netavark does), in this order, and closed in reverse, also when opening one of them fails.
 */
export interface Attachment {
  /** rtnetlink in the host namespace: the plugin's own. */
  readonly host: Rtnetlink;
  /** The container's network namespace (CNI_NETNS), for NetNS.run (sysctls) and for creating links in it. */
  readonly netns: NetNS;
  /** rtnetlink inside the container's namespace. */
  readonly container: Rtnetlink;
}

/**
 * DEL's context when the container side is gone: CNI_NETNS is empty, missing, or no longer a
 * network namespace (the runtime's bind mount was unmounted after a crash or reboot). What the
 * host holds for the attachment (lease, rules, host-side links) must still be released.
 */
export interface ContainerGone {
  readonly host: Rtnetlink;
  readonly netns: undefined;
  readonly container: undefined;
}

/** What DEL works with: the whole attachment, or the host side alone. Check `container` first. */
export type DelAttachment = Attachment | ContainerGone;

/**
 * ADD and CHECK: runs `work` with the attachment of the container at `netnsPath` (CNI_NETNS) and
 * closes it afterwards. A path that is missing or is not a network namespace is code 4 naming
 * CNI_NETNS and the path.
 */
export async function withAttachment<T>(netnsPath: string, work: (attachment: Attachment) => T | Promise<T>): Promise<T> {
  const attachment = openAttachment(netnsPath);
  try {
    return await work(attachment);
  } finally {
    closeAttachment(attachment);
  }
}

/**
 * DEL: like withAttachment, but a container side that is gone (CNI_NETNS empty, missing, or no
 * longer a network namespace) is not an error: `work` gets a ContainerGone instead, and must
 * still release what the host holds.
 */
export async function withDelAttachment<T>(netnsPath: string, work: (attachment: DelAttachment) => T | Promise<T>): Promise<T> {
  const attachment = openDelAttachment(netnsPath);
  try {
    return await work(attachment);
  } finally {
    closeAttachment(attachment);
  }
}

/** Opens host socket, namespace and container socket; on failure closes what it opened. Code 4 for a bad CNI_NETNS. */
export function openAttachment(netnsPath: string): Attachment {
  const host = Rtnetlink.open();
  try {
    return { host, ...openContainer(netnsPath) };
  } catch (error) {
    host.close();
    throw error;
  }
}

/** openAttachment for DEL: a container side that cannot be opened as a network namespace is ContainerGone. */
export function openDelAttachment(netnsPath: string): DelAttachment {
  const host = Rtnetlink.open();
  if (netnsPath === "") return containerGone(host);
  try {
    return { host, ...openContainer(netnsPath) };
  } catch (error) {
    if (error instanceof CniError && error.code === ErrorCode.InvalidEnvironment) return containerGone(host);
    host.close();
    throw error;
  }
}

/** Closes in reverse order of opening; every handle is closed even if closing one fails. */
export function closeAttachment(attachment: DelAttachment): void {
  try {
    attachment.container?.close();
  } finally {
    try {
      attachment.netns?.close();
    } finally {
      attachment.host.close();
    }
  }
}

function containerGone(host: Rtnetlink): ContainerGone {
  return { host, netns: undefined, container: undefined };
}

function openContainer(netnsPath: string): { netns: NetNS; container: Rtnetlink } {
  const netns = openCniNetns(netnsPath);
  try {
    return { netns, container: Rtnetlink.openIn(netns) };
  } catch (error) {
    netns.close();
    throw error;
  }
}
