import { setTimeout as sleep } from "node:timers/promises";
import type { NetNS } from "../netns/index.ts";
import { AF_PACKET, BPF_INSTRUCTION_BYTES, Errno, MSG_DONTWAIT, MSG_TRUNC, SOCK_CLOEXEC, SOCK_RAW, SysError, sys } from "../sys/index.ts";
import { DHCP_CLIENT_PORT, ETH_P_IP } from "./frame.ts";

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
        sys.attachFilter(fd, DHCP_CLIENT_FILTER);
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

/**
 * A classic BPF program that lets only IPv4 UDP datagrams to the DHCP client port through (and
 * no fragments but the first): the socket sits on a container's interface that may carry a lot
 * of other traffic while a renewal waits for its answer, and none of that must be queued for us.
 */
const DHCP_CLIENT_FILTER = bpfProgram([
  [0x28, 0, 0, 12], //              ldh [12]              the EtherType
  [0x15, 0, 8, ETH_P_IP], //        jeq #IPv4, -, drop
  [0x30, 0, 0, 23], //              ldb [23]              the IP protocol
  [0x15, 0, 6, 17], //              jeq #UDP, -, drop
  [0x28, 0, 0, 20], //              ldh [20]              flags and fragment offset
  [0x45, 4, 0, 0x1fff], //          jset #offset, drop
  [0xb1, 0, 0, 14], //              ldxb 4*([14]&0xf)     the IP header's length
  [0x48, 0, 0, 16], //              ldh [x+16]            the UDP destination port
  [0x15, 0, 1, DHCP_CLIENT_PORT], // jeq #68, -, drop
  [0x06, 0, 0, 0x40000], //         ret #262144           take the frame
  [0x06, 0, 0, 0], //               drop: ret #0
]);

function bpfProgram(instructions: [code: number, jumpTrue: number, jumpFalse: number, k: number][]): Uint8Array {
  const program = new Uint8Array(instructions.length * BPF_INSTRUCTION_BYTES);
  const view = new DataView(program.buffer);
  instructions.forEach(([code, jumpTrue, jumpFalse, k], index) => {
    const offset = index * BPF_INSTRUCTION_BYTES;
    view.setUint16(offset, code, HOST_LITTLE_ENDIAN);
    view.setUint8(offset + 2, jumpTrue);
    view.setUint8(offset + 3, jumpFalse);
    view.setUint32(offset + 4, k, HOST_LITTLE_ENDIAN);
  });
  return program;
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
