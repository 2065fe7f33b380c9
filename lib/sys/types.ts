import { errnoMessage, errnoName } from "./errno.ts";

/**
 * The few system calls Node and Bun do not offer. Every call is synchronous and throws a
 * SysError carrying errno on failure, so callers never look at -1 return values.
 */
export interface Sys {
  setns(fd: number, nstype: number): void;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: Uint8Array): void;
  setsockopt(fd: number, level: number, option: number, value: Uint8Array): void;
  /** Sends one datagram; returns the bytes sent. */
  send(fd: number, data: Uint8Array): number;
  /** Receives one datagram into buffer; returns its length (with MSG_TRUNC, its full length). */
  recv(fd: number, buffer: Uint8Array, flags: number): number;
  close(fd: number): void;
  flock(fd: number, operation: number): void;
  ioctl(fd: number, request: number, arg: Uint8Array): void;
  /** An ioctl whose argument is an integer passed by value, not a pointer (TUNSETPERSIST, TUNSETOWNER). */
  ioctlValue(fd: number, request: number, value: number): void;
  /**
   * Attaches a classic BPF program to a socket (SO_ATTACH_FILTER): `program` is its struct
   * sock_filter instructions, 8 bytes each, in host byte order.
   */
  attachFilter(fd: number, program: Uint8Array): void;
}

export class SysError extends Error {
  /** CNI's code for a failed kernel operation (lib/core ErrorCode.KernelOperationFailed). */
  readonly cniCode = 100;

  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: ${errnoName(errno)} (${errnoMessage(errno)})`);
    this.name = "SysError";
  }
}

export const CLONE_NEWNET = 0x40000000;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const MSG_TRUNC = 0x20;
export const MSG_PEEK = 0x02;
export const MSG_DONTWAIT = 0x40;
export const SOL_SOCKET = 1;
export const SO_ATTACH_FILTER = 26;
/** sizeof(struct sock_filter). */
export const BPF_INSTRUCTION_BYTES = 8;
export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
