import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { ErrorCode, invalidEnvironment, type CniError } from "../core/index.ts";
import { CLONE_NEWNET, Errno, SysError, sys } from "../sys/index.ts";

/**
 * A handle on a network namespace (an open nsfs file). setns(2) moves only the calling thread,
 * so `run` is synchronous by type and by check: work that hops to another thread (async fs,
 * promises) would silently happen in the host namespace.
 */
export class NetNS {
  private constructor(
    readonly path: string,
    readonly fd: number,
  ) {}

  /** The namespace the calling thread is in now. */
  static current(): NetNS {
    return new NetNS("/proc/thread-self/ns/net", openSync("/proc/thread-self/ns/net", "r"));
  }

  /**
   * Opens a namespace by path; NetNSNotFound when nothing is there, NotANetNS when it is
   * something else (a regular file, a directory, another kind of namespace). Never blocks: a
   * FIFO at the path is opened without waiting for a writer, and refused.
   */
  static open(path: string): NetNS {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ENAMETOOLONG") throw new NetNSNotFound(path);
      // A socket, or a symbolic link loop.
      if (code === "ENXIO" || code === "ELOOP") throw new NotANetNS(path);
      throw error;
    }
    const handle = new NetNS(path, fd);
    if (!handle.isNetworkNamespace()) {
      handle.close();
      throw new NotANetNS(path);
    }
    return handle;
  }

  /** Runs fn inside this namespace and always switches back, even when fn throws. */
  run<T>(fn: () => T): T {
    const home = NetNS.current();
    try {
      enter(this);
      try {
        const result = fn();
        if (result instanceof Promise) {
          throw new Error("NetNS.run: fn must be synchronous; asynchronous work would leave the namespace");
        }
        return result;
      } finally {
        sys.setns(home.fd, CLONE_NEWNET);
      }
    } finally {
      home.close();
    }
  }

  /** Whether this handle and another point at the same namespace (same nsfs inode). */
  sameAs(other: NetNS): boolean {
    const a = fstatSync(this.fd);
    const b = fstatSync(other.fd);
    return a.dev === b.dev && a.ino === b.ino;
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * Every namespace file lives on the one nsfs superblock, so the device tells a namespace from
   * a regular file or a directory; entering it tells a network namespace from another kind
   * (setns refuses those with EINVAL). The thread is back in its own namespace on return.
   */
  private isNetworkNamespace(): boolean {
    const home = NetNS.current();
    try {
      if (fstatSync(this.fd).dev !== fstatSync(home.fd).dev) return false;
      try {
        sys.setns(this.fd, CLONE_NEWNET);
      } catch (error) {
        if (error instanceof SysError && error.errno === Errno.EINVAL) return false;
        throw error;
      }
      sys.setns(home.fd, CLONE_NEWNET);
      return true;
    } finally {
      home.close();
    }
  }
}

function enter(ns: NetNS): void {
  try {
    sys.setns(ns.fd, CLONE_NEWNET);
  } catch (error) {
    if (error instanceof SysError && error.errno === Errno.EINVAL) throw new NotANetNS(ns.path);
    throw error;
  }
}

/**
 * The namespace paths plugins open come from CNI_NETNS, so a path that is no namespace is an
 * environment error (code 4), not a bug.
 */
const INVALID_ENVIRONMENT = ErrorCode.InvalidEnvironment;

export class NetNSNotFound extends Error {
  readonly cniCode = INVALID_ENVIRONMENT;
  constructor(readonly path: string) {
    super(`network namespace ${path} does not exist`);
    this.name = "NetNSNotFound";
  }
}

export class NotANetNS extends Error {
  readonly cniCode = INVALID_ENVIRONMENT;
  constructor(readonly path: string) {
    super(`${path} is not a network namespace`);
    this.name = "NotANetNS";
  }
}

/**
 * Opens CNI_NETNS. A path that is missing, or is not a network namespace (a regular file, a
 * directory, another kind of namespace, a file that cannot be opened), is code 4 naming the
 * variable and the path: the runtime gave a bad one.
 */
export function openCniNetns(path: string): NetNS {
  try {
    return NetNS.open(path);
  } catch (error) {
    throw badCniNetns(path, error) ?? error;
  }
}

function badCniNetns(path: string, error: unknown): CniError | undefined {
  if (error instanceof NetNSNotFound) return invalidEnvironment("CNI_NETNS", `${path} does not exist`);
  if (error instanceof NotANetNS) return invalidEnvironment("CNI_NETNS", `${path} is not a network namespace`);
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === "string" && code.startsWith("E")) return invalidEnvironment("CNI_NETNS", `cannot open ${path}: ${(error as Error).message}`);
  return undefined;
}

export { readSysctl, trySysctl, writeSysctl } from "./sysctl.ts";
export { enableForwarding } from "./forwarding.ts";
