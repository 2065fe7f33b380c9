import { ErrorCode, Failures, toCniError } from "../core/index.ts";
import { chooseBackendForTable, FIREWALL_BACKENDS, toolProbes, type FirewallBackendName } from "./backend.ts";
import { commandExecutor, type ToolExecutor } from "./exec.ts";
import { iptablesMasquerade } from "./masquerade/iptables.ts";
import { nftablesMasquerade } from "./masquerade/nftables.ts";
import type { MasqueradeFeature } from "./masquerade/types.ts";
import { iptablesPortMap } from "./portmap/iptables.ts";
import { nftablesPortMap } from "./portmap/nftables.ts";
import type { PortMapFeature } from "./portmap/types.ts";

/**
 * One backend's implementation of every firewall feature of the suite. Callers pick a backend
 * once and from then on use features without knowing which backend runs them. A new feature
 * adds a member here and one implementation per backend.
 */
export interface Firewall {
  readonly backend: FirewallBackendName;
  readonly masquerade: MasqueradeFeature;
  readonly portmap: PortMapFeature;
}

export interface FirewallOptions {
  /** The configured backend (e.g. bridge's ipMasqBackend); chosen by chooseBackend when unset. */
  backend?: FirewallBackendName;
  /** Runs the tools; the host's by default. */
  executor?: ToolExecutor;
}

export function openFirewall(backend: FirewallBackendName, executor: ToolExecutor): Firewall {
  switch (backend) {
    case "iptables":
      return { backend, masquerade: iptablesMasquerade(executor), portmap: iptablesPortMap(executor) };
    case "nftables":
      return { backend, masquerade: nftablesMasquerade(executor), portmap: nftablesPortMap(executor) };
  }
}

/**
 * The firewall of the configured backend, or of the one chooseBackend picks, for a feature whose
 * iptables implementation works in `table` (see chooseBackendForTable).
 */
export function selectFirewall(options: FirewallOptions, table: string): Firewall {
  const chosen = chooseBackendForTable(options.backend, options.executor ?? commandExecutor(), table);
  return openFirewall(chosen.backend, chosen.executor);
}

/**
 * Runs `work` on every backend: for removal, whichever backend made the rules (the
 * configuration may have changed since, or another version of the plugin made them). As in
 * the reference, a backend's failure counts only when that backend is usable here.
 */
export function onEveryBackend(what: string, options: FirewallOptions, work: (firewall: Firewall) => void): void {
  const executor = options.executor ?? commandExecutor();
  const probes = toolProbes(executor);
  const usable: Record<FirewallBackendName, () => boolean> = {
    iptables: probes.iptablesUsable,
    nftables: probes.nftablesUsable,
  };
  const failures = new Failures();
  for (const backend of FIREWALL_BACKENDS) {
    try {
      work(openFirewall(backend, executor));
    } catch (error) {
      if (usable[backend]()) failures.add(error, backend);
    }
  }
  failures.throwIfAny(what, ErrorCode.FirewallFailed);
}

/** Runs `work`, putting `context` in front of the message of whatever it throws. */
export function inContext(context: string, work: () => void): void {
  try {
    work();
  } catch (error) {
    throw toCniError(error).withContext(context);
  }
}
