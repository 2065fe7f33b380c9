/**
 * The dhcp daemon's work: a table of leases by client identifier, DHCP.Allocate (get a lease,
 * or return the one already held) and DHCP.Release (send DHCPRELEASE, forget the lease), as
 * the reference daemon offers them over net/rpc.
 */
import { NetNSNotFound, NotANetNS } from "../netns/index.ts";
import { ErrorCode, toCniError } from "../skel/index.ts";
import type { Result, Route } from "../types/index.ts";
import { acquire, clientIdentifier, NoAnswer, type ClientIdentity, type ClientSettings } from "./client.ts";
import { readDhcpConfig } from "./config.ts";
import { ManagedLease } from "./lease.ts";
import { UnusableLease } from "./lease-terms.ts";
import { InterfaceGone, type LeaseTarget } from "./link.ts";
import type { CmdArgs } from "./rpc/types.ts";

export interface DaemonSettings {
  client: ClientSettings;
  /** Prepended to every namespace path (-hostprefix): the host's root as the daemon sees it. */
  hostPrefix: string;
  log(message: string): void;
}

/** A failure of a call, with the CNI code the plugin should report. */
export class DaemonError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "DaemonError";
  }
}

export class DhcpDaemon {
  private readonly leases = new Map<string, ManagedLease>();
  private readonly acquiring = new Map<string, { lease: Promise<ManagedLease>; abort: AbortController }>();

  constructor(private readonly settings: DaemonSettings) {}

  /** The lease for the attachment: the one held already, or a new one from a server. */
  async allocate(args: CmdArgs): Promise<Result> {
    const { key, identity, target, priority } = this.describeCall(args);
    let lease = this.leases.get(key);
    if (!lease) {
      let pending = this.acquiring.get(key);
      if (!pending) {
        const abort = new AbortController();
        pending = { lease: this.acquireLease(key, identity, target, abort.signal).finally(() => this.acquiring.delete(key)), abort };
        this.acquiring.set(key, pending);
      }
      lease = await pending.lease;
    }
    return leaseResult(lease, priority);
  }

  /**
   * Releases and forgets the attachment's lease; nothing to do when there is none. Reads only
   * the network name: a configuration whose options became invalid must not keep a lease.
   */
  async release(args: CmdArgs): Promise<void> {
    const key = leaseKey(args.containerId, networkName(parseStdin(args)), args.ifname);
    await this.acquiring.get(key)?.lease.catch(() => undefined);
    const lease = this.leases.get(key);
    if (!lease) return;
    this.leases.delete(key);
    await lease.stop({ releaseIt: true });
  }

  /** Stops every lease's maintenance without releasing any: they stay valid until they end. */
  async shutdown(): Promise<void> {
    for (const { abort } of this.acquiring.values()) abort.abort();
    const leases = [...this.leases.values()];
    this.leases.clear();
    await Promise.all(leases.map((lease) => lease.stop({ releaseIt: false })));
  }

  get leaseCount(): number {
    return this.leases.size;
  }

  /** What the lease does and its check ask for (the held lease, or none). */
  check(args: CmdArgs): Result {
    const { key, priority } = this.describeCall(args);
    const lease = this.leases.get(key);
    if (!lease) throw new DaemonError(ErrorCode.CheckFailed, `no lease is held for ${key} (acquiring: ${this.acquiring.has(key) ? "yes" : "no"})`);
    return leaseResult(lease, priority);
  }

  private describeCall(args: CmdArgs) {
    const { network, settings } = readConfig(parseStdin(args), args.args);
    const key = leaseKey(args.containerId, network, args.ifname);
    const identity: ClientIdentity = { clientId: clientIdentifier(args.containerId, network, args.ifname), settings };
    const target: LeaseTarget = { netnsPath: this.settings.hostPrefix + args.netns, ifname: args.ifname };
    return { key, identity, target, priority: settings.priority };
  }

  private async acquireLease(key: string, identity: ClientIdentity, target: LeaseTarget, signal: AbortSignal): Promise<ManagedLease> {
    const { client, log } = this.settings;
    log(`${key}: acquiring a lease on ${target.ifname} in ${target.netnsPath}`);
    let binding;
    try {
      binding = await acquire(target, identity, client, signal);
    } catch (error) {
      const failure = classify(error);
      log(`${key}: ${failure.message}`);
      throw failure;
    }
    const lease = new ManagedLease(key, target, identity, binding, client, {
      log,
      ended: (ended) => {
        if (this.leases.get(ended.key) === ended) this.leases.delete(ended.key);
      },
    });
    const { terms } = binding;
    log(`${key}: lease acquired: ${terms.address}/${terms.prefixLength} from ${terms.server} for ${terms.leaseSeconds} s (renewal in ${terms.renewSeconds} s)`);
    this.leases.set(key, lease);
    lease.start();
    return lease;
  }
}

/** The lease table's key, which is also the text of the client identifier. */
function leaseKey(containerId: string, network: string, ifname: string): string {
  return `${containerId}/${network}/${ifname}`;
}

function parseStdin(args: CmdArgs): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(args.stdin));
  } catch (error) {
    throw new DaemonError(ErrorCode.DecodingFailure, `the network configuration is not valid JSON: ${(error as Error).message}`);
  }
}

function networkName(stdin: unknown): string {
  const name = typeof stdin === "object" && stdin !== null ? (stdin as Record<string, unknown>).name : undefined;
  if (typeof name !== "string") throw new DaemonError(ErrorCode.InvalidConfig, "invalid config: name: the network configuration has no name");
  return name;
}

function readConfig(stdin: unknown, cniArgs: string) {
  try {
    return readDhcpConfig(stdin, cniArgs);
  } catch (error) {
    const cniError = toCniError(error);
    throw new DaemonError(cniError.code, cniError.message);
  }
}

function classify(error: unknown): DaemonError {
  if (error instanceof DaemonError) return error;
  if (error instanceof NoAnswer) return new DaemonError(ErrorCode.TryAgainLater, error.message);
  if (error instanceof UnusableLease) return new DaemonError(ErrorCode.UnusableLease, error.message);
  if (error instanceof InterfaceGone || error instanceof NetNSNotFound || error instanceof NotANetNS) return new DaemonError(ErrorCode.InvalidEnvironment, error.message);
  // Failed system calls and netlink requests carry their own code (100).
  const cniError = toCniError(error);
  return new DaemonError(cniError.code, cniError.message);
}

/** The CNI result of a lease: its address with the router as gateway, and its routes. */
function leaseResult(lease: ManagedLease, priority: number): Result {
  const { terms } = lease.binding;
  const ip = terms.router ? { address: `${terms.address}/${terms.prefixLength}`, gateway: terms.router.toString() } : { address: `${terms.address}/${terms.prefixLength}` };
  const routes: Route[] = terms.routes.map((route) => (priority ? { ...route, priority } : { ...route }));
  return { ips: [ip], routes };
}
