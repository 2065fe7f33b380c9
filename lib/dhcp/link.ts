import { setTimeout as sleep } from "node:timers/promises";
import { Rtnetlink } from "../netlink/index.ts";
import { NetNS, NetNSNotFound } from "../netns/index.ts";
import { PacketSocket } from "./packet-socket.ts";

/** Where a lease lives: the container's namespace (by path) and the interface's name there. */
export interface LeaseTarget {
  netnsPath: string;
  ifname: string;
}

/** The interface is gone, or its namespace is: the lease has nothing left to serve. */
export class InterfaceGone extends Error {
  constructor(target: LeaseTarget, what: "namespace" | "interface") {
    super(what === "namespace" ? `network namespace ${target.netnsPath} does not exist` : `there is no interface ${target.ifname} in ${target.netnsPath}`);
    this.name = "InterfaceGone";
  }
}

/**
 * The container's interface, opened for one DHCP exchange: its index and MAC, a packet socket
 * on it, and an rtnetlink socket in its namespace. Nothing stays open between exchanges, so a
 * lease holds no namespace alive and no file descriptor while it waits for its next renewal.
 */
export class OpenedInterface {
  private constructor(
    readonly index: number,
    readonly mac: Uint8Array,
    readonly socket: PacketSocket,
    readonly netlink: Rtnetlink,
  ) {}

  /** Opens the interface; with `bringUp`, sets it up first if it is down (as the reference does). */
  static open(target: LeaseTarget, options: { bringUp: boolean }): OpenedInterface {
    let netns: NetNS;
    try {
      netns = NetNS.open(target.netnsPath);
    } catch (error) {
      if (error instanceof NetNSNotFound) throw new InterfaceGone(target, "namespace");
      throw error;
    }
    let netlink: Rtnetlink | undefined;
    try {
      netlink = Rtnetlink.openIn(netns);
      const link = netlink.linkByName(target.ifname);
      if (!link) throw new InterfaceGone(target, "interface");
      if (!link.mac) throw new Error(`interface ${target.ifname} has no hardware address to do DHCP with`);
      if (options.bringUp && !link.up) netlink.setLink(link.index, { up: true });
      const socket = PacketSocket.open(netns, link.index);
      return new OpenedInterface(link.index, macBytes(link.mac), socket, netlink);
    } catch (error) {
      netlink?.close();
      throw error;
    } finally {
      netns.close();
    }
  }

  /**
   * Waits (at most `timeoutMs`) until the kernel reports the link operationally up. A link just
   * set up drops what is sent on it until the kernel's link watch activates its queue, which
   * it does up to a second later; a DHCPDISCOVER sent before would be lost.
   */
  async waitUntilRunning(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = this.netlink.linkByIndex(this.index)?.operState;
      if (state === "up" || state === "unknown" || Date.now() >= deadline) return;
      await sleep(RUNNING_POLL_MS);
    }
  }

  close(): void {
    this.socket.close();
    this.netlink.close();
  }
}

const RUNNING_POLL_MS = 20;

function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(":").map((part) => parseInt(part, 16)));
}

export function macText(mac: Uint8Array): string {
  return [...mac].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
}

/**
 * Takes `address/prefixLength` off the interface (its routes go with it), when the interface
 * is still there and still has it. Returns whether it was removed.
 */
export function removeAddress(target: LeaseTarget, address: string, prefixLength: number): boolean {
  let netns: NetNS;
  try {
    netns = NetNS.open(target.netnsPath);
  } catch (error) {
    if (error instanceof NetNSNotFound) return false;
    throw error;
  }
  try {
    const netlink = Rtnetlink.openIn(netns);
    try {
      const link = netlink.linkByName(target.ifname);
      if (!link) return false;
      const present = netlink.addresses({ index: link.index, family: 4 }).some((entry) => entry.address === address && entry.prefixLength === prefixLength);
      if (!present) return false;
      netlink.deleteAddress({ index: link.index, address, prefixLength });
      return true;
    } finally {
      netlink.close();
    }
  } finally {
    netns.close();
  }
}
