import { closeSync, constants, openSync } from "node:fs";
import { sys } from "./backend.ts";
import { Errno } from "./errno.ts";
import { SysError } from "./types.ts";

/**
 * TAP devices through /dev/net/tun (linux/if_tun.h). A tap is made in the network namespace of
 * the calling thread when /dev/net/tun is opened, so open it inside the namespace it belongs in
 * (NetNS.run). The descriptor is the device's queue: frames the kernel sends out of the tap are
 * read from it, frames written to it arrive on the tap.
 */

// _IOW('T', n, int)
const TUNSETIFF = 0x400454ca;
const TUNSETPERSIST = 0x400454cb;
const TUNSETOWNER = 0x400454cc;
const TUNSETGROUP = 0x400454ce;

const IFF_TAP = 0x0002;
const IFF_MULTI_QUEUE = 0x0100;
const IFF_NO_PI = 0x1000;
/** Fail with EBUSY instead of attaching when a device of that name exists. */
const IFF_TUN_EXCL = 0x8000;

/** sizeof(struct ifreq): the name (IFNAMSIZ 16 bytes) and a union whose first member is the flags. */
const IFREQ_BYTES = 40;
const IFNAMSIZ = 16;

export interface NewTap {
  name: string;
  /** IFF_MULTI_QUEUE: every process attaching later must ask for it too. */
  multiQueue: boolean;
  /** The user allowed to attach to it (TUNSETOWNER); anyone with CAP_NET_ADMIN otherwise. */
  owner?: number;
  /** The group allowed to attach to it (TUNSETGROUP). */
  group?: number;
}

/**
 * Creates a persistent tap (it outlives this process; delete it as any link) in the calling
 * thread's namespace. A device of that name already there is EBUSY; on any failure the
 * half-made device goes with the descriptor.
 */
export function createPersistentTap(tap: NewTap): void {
  const fd = openTun();
  try {
    setInterface(fd, tap.name, IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL | (tap.multiQueue ? IFF_MULTI_QUEUE : 0));
    if (tap.owner !== undefined) named("TUNSETOWNER", () => sys.ioctlValue(fd, TUNSETOWNER, tap.owner!));
    if (tap.group !== undefined) named("TUNSETGROUP", () => sys.ioctlValue(fd, TUNSETGROUP, tap.group!));
    named("TUNSETPERSIST", () => sys.ioctlValue(fd, TUNSETPERSIST, 1));
  } finally {
    closeSync(fd);
  }
}

/**
 * Attaches to an existing tap (as a virtual machine monitor does) and returns the descriptor
 * to read and write its frames, without packet information headers.
 */
export function attachTap(name: string, multiQueue = false): number {
  const fd = openTun();
  try {
    setInterface(fd, name, IFF_TAP | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0));
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function openTun(): number {
  try {
    return openSync("/dev/net/tun", constants.O_RDWR);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).errno;
    throw typeof errno === "number" ? new SysError("open /dev/net/tun", Math.abs(errno)) : error;
  }
}

function setInterface(fd: number, name: string, flags: number): void {
  const ifreq = new Uint8Array(IFREQ_BYTES);
  const encoded = new TextEncoder().encode(name);
  if (encoded.byteLength >= IFNAMSIZ) throw new SysError("ioctl(TUNSETIFF)", Errno.ENAMETOOLONG);
  ifreq.set(encoded);
  // ifr_flags is a short in host byte order: little-endian on every platform Bun and koffi run on here.
  new DataView(ifreq.buffer).setUint16(IFNAMSIZ, flags, true);
  named("TUNSETIFF", () => sys.ioctl(fd, TUNSETIFF, ifreq));
}

/** The request's name in the error ("ioctl(TUNSETIFF): EBUSY ..."), not just "ioctl". */
function named(request: string, call: () => void): void {
  try {
    call();
  } catch (error) {
    throw error instanceof SysError ? new SysError(`ioctl(${request})`, error.errno) : error;
  }
}
