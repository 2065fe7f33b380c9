import { closeSync, constants, fstatSync, openSync, statSync } from "node:fs";
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
   * something else. Non-blocking, so that a FIFO under the path cannot hold the open forever.
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

  private isNetworkNamespace(): boolean {
    // Every namespace file lives on the one nsfs superblock; another namespace type passes this
    // test and is caught by setns's EINVAL in run().
    const home = NetNS.current();
    try {
      return fstatSync(this.fd).dev === fstatSync(home.fd).dev;
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
const INVALID_ENVIRONMENT = 4;

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

/** Whether a path exists at all (DEL uses this to skip work inside a namespace that is gone). */
export function netnsExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
