/**
 * One lease the daemon keeps: bound until T1, then RENEWING (unicast to its server) until T2,
 * then REBINDING (broadcast to any server) until the lease ends (RFC 2131 4.4.5). A renewal or
 * rebinding that succeeds starts the cycle again; a DHCPNAK, or the end of the lease with no
 * answer, loses it: the address is taken off the interface (and its routes with it), since the
 * server may hand it to someone else. An interface or namespace that is gone ends the lease
 * quietly: there is nothing left to configure or renew.
 */
import { extend, release, type Binding, type ClientIdentity, type ClientSettings } from "./client.ts";
import { INFINITE_LEASE } from "./lease-terms.ts";
import { InterfaceGone, removeAddress, type LeaseTarget } from "./link.ts";

export interface LeaseEvents {
  log(message: string): void;
  /** The lease is over without a release: forget it. */
  ended(lease: ManagedLease): void;
}

/** setTimeout takes at most 2^31-1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 0x7fff_ffff;
const RETRY_AFTER_FAILURE_MS = 30_000;

export class ManagedLease {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    /** The client identifier text: "<container ID>/<network>/<ifname>". */
    readonly key: string,
    readonly target: LeaseTarget,
    private readonly identity: ClientIdentity,
    private current: Binding,
    private readonly client: ClientSettings,
    private readonly events: LeaseEvents,
  ) {}

  get binding(): Binding {
    return this.current;
  }

  /** Starts waiting for T1. */
  start(): void {
    const { terms, since } = this.current;
    if (terms.leaseSeconds === INFINITE_LEASE) return;
    this.wakeAt(since + terms.renewSeconds * 1000, () => this.maintain());
  }

  /** Stops all work on the lease; with `releaseIt`, sends DHCPRELEASE to its server. */
  async stop(options: { releaseIt: boolean }): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
    if (!options.releaseIt) return;
    try {
      release(this.target, this.identity, this.current, this.client);
      this.events.log(`${this.key}: released ${this.describe()}`);
    } catch (error) {
      if (!(error instanceof InterfaceGone)) throw error;
      this.events.log(`${this.key}: ${error.message}; forgetting ${this.describe()} without a DHCPRELEASE`);
    }
  }

  private describe(): string {
    const { terms } = this.current;
    return `${terms.address}/${terms.prefixLength} (server ${terms.server})`;
  }

  private wakeAt(time: number, work: () => Promise<void>): void {
    const wait = time - Date.now();
    this.timer = setTimeout(
      () => {
        if (this.stopped) return;
        if (wait > MAX_TIMER_MS) return this.wakeAt(time, work);
        this.running = work().finally(() => (this.running = undefined));
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }

  /** T1 has come: renew, then rebind, until the lease is extended or lost. */
  private async maintain(): Promise<void> {
    const { terms, since } = this.current;
    const rebindAt = since + terms.rebindSeconds * 1000;
    const endsAt = since + terms.leaseSeconds * 1000;
    try {
      if (Date.now() < rebindAt) {
        this.events.log(`${this.key}: renewing ${this.describe()}`);
        const renewed = await extend("renew", this.target, this.identity, this.current, rebindAt, this.client, this.abort.signal);
        if (this.stopped) return;
        if (renewed.kind === "extended") return this.extended(renewed.binding, "renewed");
        if (renewed.kind === "refused") return this.lose(renewed.error.message);
        this.events.log(`${this.key}: renewal unanswered (${renewed.detail}); rebinding`);
      }
      if (Date.now() < endsAt) {
        const rebound = await extend("rebind", this.target, this.identity, this.current, endsAt, this.client, this.abort.signal);
        if (this.stopped) return;
        if (rebound.kind === "extended") return this.extended(rebound.binding, "rebound");
        if (rebound.kind === "refused") return this.lose(rebound.error.message);
        return this.lose(`the lease ended with no server answering (${rebound.detail})`);
      }
      this.lose("the lease ended before it could be renewed");
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof InterfaceGone) {
        this.events.log(`${this.key}: ${error.message}; forgetting ${this.describe()}`);
        this.stopped = true;
        this.events.ended(this);
        return;
      }
      // Something of ours failed (a socket, netlink): try again soon, as long as the lease lasts.
      const retryAt = Math.min(Date.now() + RETRY_AFTER_FAILURE_MS, endsAt);
      this.events.log(`${this.key}: renewing failed: ${(error as Error).message}; trying again in ${Math.round((retryAt - Date.now()) / 1000)} s`);
      this.wakeAt(retryAt, () => this.maintain());
    }
  }

  private extended(binding: Binding, how: "renewed" | "rebound"): void {
    this.current = binding;
    this.events.log(`${this.key}: lease ${how}, ${this.describe()} until ${new Date(binding.since + binding.terms.leaseSeconds * 1000).toISOString()}`);
    this.start();
  }

  /** The lease is gone: take the address away, as the server may now give it to another host. */
  private lose(reason: string): void {
    this.stopped = true;
    const { address, prefixLength } = this.current.terms;
    let removed = false;
    try {
      removed = removeAddress(this.target, address.toString(), prefixLength);
    } catch (error) {
      this.events.log(`${this.key}: could not remove ${address}/${prefixLength} from ${this.target.ifname}: ${(error as Error).message}`);
    }
    this.events.log(`${this.key}: lost ${this.describe()}: ${reason}${removed ? `; removed it from ${this.target.ifname}` : ""}`);
    this.events.ended(this);
  }
}
