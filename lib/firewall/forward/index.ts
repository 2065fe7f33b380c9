import { log } from "../../core/index.ts";
import type { GcAttachment } from "../../types/index.ts";
import { commandExecutor, type ToolExecutor } from "../exec.ts";
import { inContext } from "../firewall.ts";
import { DEFAULT_FIREWALLD_ZONE, firewalldForwardAccess, firewalldRunning } from "./firewalld.ts";
import { DEFAULT_ADMIN_CHAIN, iptablesForwardAccess } from "./iptables.ts";
import type { ForwardAccessFeature, ForwardAccessRequest, ForwardAttachment, ForwardBackendName } from "./types.ts";

export interface ForwardAccessOptions {
  /** The configured backend; when unset, firewalld if it is running, else iptables (the reference's rule). */
  backend?: ForwardBackendName;
  /** iptables: the administrator's chain, jumped to first from CNI-FORWARD. */
  adminChain?: string;
  /** firewalld: the zone the container addresses become sources of. */
  firewalldZone?: string;
  /** Runs iptables-save/-restore and busctl; the host's by default. */
  executor?: ToolExecutor;
}

/** The backend to use and its implementation. */
export function selectForwardAccess(options: ForwardAccessOptions): ForwardAccessFeature {
  const executor = options.executor ?? commandExecutor();
  const backend = options.backend ?? (firewalldRunning(executor) ? "firewalld" : "iptables");
  return backend === "firewalld"
    ? firewalldForwardAccess(executor, options.firewalldZone ?? DEFAULT_FIREWALLD_ZONE)
    : iptablesForwardAccess(executor, options.adminChain ?? DEFAULT_ADMIN_CHAIN);
}

/**
 * Lets the container's forwarded traffic through (and isolates its bridge if asked). On failure
 * whatever was done for the addresses is undone, so an IPv4 family set up before the IPv6 one
 * failed does not stay behind.
 */
export function setupForwardAccess(request: ForwardAccessRequest, options: ForwardAccessOptions = {}): void {
  const access = selectForwardAccess(options);
  inContext(`letting ${describe(request.addresses)} through the firewall (${access.backend})`, () => {
    try {
      access.setup(request);
    } catch (error) {
      try {
        access.teardown(request.attachment, request.addresses);
      } catch (undoError) {
        log(`firewall: could not undo the rules for ${describe(request.addresses)}: ${(undoError as Error).message}`);
      }
      throw error;
    }
  });
}

/**
 * Removes what setupForwardAccess did for the attachment: with iptables found by its tag, and by
 * `addresses` (prevResult's, possibly none) for rules the reference made; succeeds when it is
 * gone already.
 */
export function teardownForwardAccess(attachment: ForwardAttachment, addresses: readonly string[], options: ForwardAccessOptions = {}): void {
  const access = selectForwardAccess(options);
  inContext(`removing the firewall rules (${access.backend}) of ${describeAttachment(attachment, addresses)}`, () => access.teardown(attachment, addresses));
}

/**
 * GC: removes the iptables rules of the network's attachments that are not valid (found by
 * their tags; firewalld's sources carry none, whatever the backend is now).
 */
export function gcForwardAccess(network: string, validAttachments: readonly GcAttachment[], options: ForwardAccessOptions = {}): void {
  const access = iptablesForwardAccess(options.executor ?? commandExecutor(), options.adminChain ?? DEFAULT_ADMIN_CHAIN);
  inContext(`collecting the firewall rules of network ${network}`, () => access.gc(network, validAttachments));
}

/** Code 104 naming every missing piece when setupForwardAccess's work is not all there. */
export function checkForwardAccess(request: ForwardAccessRequest, options: ForwardAccessOptions = {}): void {
  const access = selectForwardAccess(options);
  inContext(`checking the firewall rules (${access.backend}) of ${describe(request.addresses)}`, () => access.check(request));
}

/** Code 50 saying why when the backend (and iptables, for isolation) cannot work here. */
export function ensureForwardAccessUsable(options: ForwardAccessOptions, withIsolation: boolean): void {
  selectForwardAccess(options).ensureUsable(withIsolation);
}

function describeAttachment(attachment: ForwardAttachment, addresses: readonly string[]): string {
  const who = `container ${attachment.containerId} (${attachment.ifname})`;
  return addresses.length === 0 ? who : `${who}, ${describe(addresses)}`;
}

function describe(addresses: readonly string[]): string {
  return addresses.length === 1 ? `address ${addresses[0]}` : `addresses ${addresses.join(", ")}`;
}
