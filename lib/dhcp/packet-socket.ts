import { setTimeout as sleep } from "node:timers/promises";
import type { NetNS } from "../netns/index.ts";
import { AF_PACKET, Errno, MSG_DONTWAIT, MSG_TRUNC, SOCK_CLOEXEC, SOCK_RAW, SysError, sys } from "../sys/index.ts";
import { ETH_P_IP } from "./frame.ts";

/** How often a waiting receive looks for a frame; the daemon has no way to be woken by the fd. */
const POLL_MS = 5;
/** Frames longer than this are not DHCP replies (a DHCP message fits in 576 bytes of IP). */
const MAX_FRAME_BYTES = 4096;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A packet socket (AF_PACKET, SOCK_RAW) on one interface in a container's namespace, for the
 * IPv4 frames to and from it. Made while the thread is inside the namespace, it stays there.
 * Reads never block: the daemon is one thread serving many leases, so a receive that waits does
 * so by polling from the event loop.
 */
export class PacketSocket {
  private readonly buffer = new Uint8Array(MAX_FRAME_BYTES);
  private closed = false;

  private constructor(private readonly fd: number) {}

  static open(netns: NetNS, ifindex: number): PacketSocket {
    return netns.run(() => {
      // Protocol 0 receives nothing until bind names the protocol and the interface, so no
      // frame of another interface is queued in between.
      const fd = sys.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
      try {
        sys.bind(fd, linkLayerAddress(ifindex));
      } catch (error) {
        sys.close(fd);
        throw error;
      }
      return new PacketSocket(fd);
    });
  }

  send(frame: Uint8Array): void {
    sys.send(this.fd, frame);
  }

  /** The next frame received, or undefined when none is waiting. */
  tryReceive(): Uint8Array | undefined {
    for (;;) {
      let length: number;
      try {
        length = sys.recv(this.fd, this.buffer, MSG_DONTWAIT | MSG_TRUNC);
      } catch (error) {
        if (error instanceof SysError && (error.errno === Errno.EAGAIN || error.errno === Errno.EINTR)) return undefined;
        throw error;
      }
      if (length <= this.buffer.length) return this.buffer.slice(0, length);
      // A jumbo frame of some other traffic: skip it.
    }
  }

  /**
   * Waits for the first frame `accept` turns into a value, until `deadline` (a Date.now() time)
   * or until `signal` aborts; returns undefined then.
   */
  async receive<T>(accept: (frame: Uint8Array) => T | undefined, deadline: number, signal?: AbortSignal): Promise<T | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      for (let frame = this.tryReceive(); frame; frame = this.tryReceive()) {
        const accepted = accept(frame);
        if (accepted !== undefined) return accepted;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(POLL_MS, left));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    sys.close(this.fd);
  }
}

/** struct sockaddr_ll bound to IPv4 frames of one interface. */
function linkLayerAddress(ifindex: number): Uint8Array {
  const address = new Uint8Array(20);
  const view = new DataView(address.buffer);
  view.setUint16(0, AF_PACKET, HOST_LITTLE_ENDIAN);
  view.setUint16(2, ETH_P_IP, false); // network order
  view.setInt32(4, ifindex, HOST_LITTLE_ENDIAN);
  return address;
}
