import { Errno, MSG_PEEK, MSG_TRUNC, SysError, sys } from "../sys/index.ts";
import { HOST_LITTLE_ENDIAN, dataView } from "./bytes.ts";
import {
  AF_NETLINK,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
} from "./constants.ts";
import { NetlinkError } from "./errors.ts";
import {
  type NetlinkMessage,
  type Request,
  encodeRequest,
  parseDoneMessage,
  parseErrorMessage,
  parseMessages,
} from "./message.ts";

/** Says what a request was for; called only when it fails, so it may do work (look up a name). */
export type Describe = () => string;

const { EINTR, ENOPROTOOPT } = Errno;
/** A dump is retried when the kernel flags it inconsistent (the table changed while it was read). */
const DUMP_ATTEMPTS = 10;
/** Big enough for every dump datagram (the kernel caps those at 32 KiB); larger single replies grow it. */
const RECEIVE_BUFFER_BYTES = 64 * 1024;

/**
 * A netlink socket (NETLINK_ROUTE unless told otherwise, e.g. NETLINK_NETFILTER for conntrack)
 * used synchronously: send one request, read until its answer is complete. It stays bound to
 * the network namespace it was opened in.
 */
export class NetlinkSocket {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  private readonly probe = new Uint8Array(16);
  private closed = false;

  private constructor(private readonly fd: number) {}

  static open(protocol = NETLINK_ROUTE, name = "rtnetlink"): NetlinkSocket {
    const describe = () => `open ${name} socket`;
    const fd = syscall(describe, () => sys.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
    try {
      // Error replies then carry the kernel's explanation, and not a copy of our request.
      enableIfKnown(fd, NETLINK_EXT_ACK, describe);
      enableIfKnown(fd, NETLINK_CAP_ACK, describe);
      syscall(describe, () => sys.bind(fd, socketAddress()));
    } catch (error) {
      sys.close(fd);
      throw error;
    }
    return new NetlinkSocket(fd);
  }

  /**
   * Sends a request that asks for an acknowledgement (NLM_F_ACK) and returns the messages the
   * kernel sent before it (the object asked for by a GET, nothing for NEW/DEL/SET).
   */
  command(req: Request, describe: Describe): NetlinkMessage[] {
    // Without NLM_F_ACK a successful NEW/DEL/SET gets no answer at all, and we would wait forever.
    const seq = this.send({ ...req, flags: req.flags | NLM_F_ACK }, describe);
    const replies: NetlinkMessage[] = [];
    for (;;) {
      for (const message of this.receive(describe)) {
        if (message.seq !== seq || message.type === NLMSG_NOOP) continue;
        if (message.type === NLMSG_ERROR) {
          const status = parseErrorMessage(message);
          if (status.errno === 0) return replies;
          throw new NetlinkError(describe(), status.errno, status.extack);
        }
        replies.push(message);
      }
    }
  }

  /**
   * Sends an NLM_F_DUMP request and returns every message up to NLMSG_DONE. The kernel does not
   * acknowledge dumps (NLM_F_ACK is ignored there); NLMSG_DONE or an error ends them.
   */
  dump(req: Request, describe: Describe): NetlinkMessage[] {
    for (let attempt = 1; ; attempt++) {
      const seq = this.send({ ...req, flags: req.flags | NLM_F_DUMP }, describe);
      const { messages, interrupted } = this.readDump(seq, describe);
      if (!interrupted) return messages;
      if (attempt === DUMP_ATTEMPTS) {
        throw new NetlinkError(
          describe(),
          EINTR,
          `the dump was interrupted by concurrent changes ${DUMP_ATTEMPTS} times in a row`,
        );
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    sys.close(this.fd);
  }

  private readDump(seq: number, describe: Describe): { messages: NetlinkMessage[]; interrupted: boolean } {
    const messages: NetlinkMessage[] = [];
    let interrupted = false;
    for (;;) {
      for (const message of this.receive(describe)) {
        if (message.seq !== seq || message.type === NLMSG_NOOP) continue;
        if (message.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (message.type === NLMSG_DONE || message.type === NLMSG_ERROR) {
          const status = message.type === NLMSG_DONE ? parseDoneMessage(message) : parseErrorMessage(message);
          if (status.errno !== 0) throw new NetlinkError(describe(), status.errno, status.extack);
          return { messages, interrupted };
        }
        messages.push(message);
      }
    }
  }

  private send(req: Request, describe: Describe): number {
    if (this.closed) throw new Error(`${describe()}: the netlink socket is closed`);
    this.seq = (this.seq + 1) >>> 0;
    const bytes = encodeRequest(req, this.seq);
    const sent = syscall(describe, () => sys.send(this.fd, bytes));
    if (sent !== bytes.byteLength) throw new Error(`${describe()}: sent ${sent} of ${bytes.byteLength} bytes`);
    return this.seq;
  }

  /** Reads one datagram, first peeking at its size so that nothing is ever truncated. */
  private receive(describe: Describe): NetlinkMessage[] {
    for (;;) {
      try {
        const size = sys.recv(this.fd, this.probe, MSG_PEEK | MSG_TRUNC);
        if (size > this.buffer.byteLength) this.buffer = new Uint8Array(size);
        const received = sys.recv(this.fd, this.buffer, 0);
        // A copy: the buffer is reused for the next datagram while these messages live on.
        return parseMessages(this.buffer.slice(0, received));
      } catch (error) {
        if (error instanceof SysError && error.errno === EINTR) continue;
        throw asNetlinkError(describe, error);
      }
    }
  }
}

/** Kernels before 4.12 (EXT_ACK) and 4.2 (CAP_ACK) lack these options; errors are then just terser. */
function enableIfKnown(fd: number, option: number, describe: Describe): void {
  try {
    sys.setsockopt(fd, SOL_NETLINK, option, int32(1));
  } catch (error) {
    if (error instanceof SysError && error.errno === ENOPROTOOPT) return;
    throw asNetlinkError(describe, error);
  }
}

function syscall<T>(describe: Describe, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw asNetlinkError(describe, error);
  }
}

function asNetlinkError(describe: Describe, error: unknown): unknown {
  return error instanceof SysError ? new NetlinkError(`${describe()} (${error.call})`, error.errno) : error;
}

function int32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  dataView(bytes).setInt32(0, value, HOST_LITTLE_ENDIAN);
  return bytes;
}

/** struct sockaddr_nl for the kernel to assign our port id: family, pad, pid 0, no groups. */
function socketAddress(): Uint8Array {
  const bytes = new Uint8Array(12);
  dataView(bytes).setUint16(0, AF_NETLINK, HOST_LITTLE_ENDIAN);
  return bytes;
}
