import { CniError, ErrorCode } from "../../core/index.ts";
import { groupByFamily, parseInterfaceAddresses } from "../address.ts";
import { checkFailed } from "../check.ts";
import type { ToolExecutor } from "../exec.ts";
import { IPTABLES_TOOLS } from "../iptables/family.ts";
import { RestoreScript } from "../iptables/restore.ts";
import { callSystemBus, systemBusMayBeReachable, type DbusMethodCall, type DbusReply } from "./busctl.ts";
import { commitToFilterTable, FILTER, readFilterTable } from "./filter-table.ts";
import { ensureIptablesUsable } from "./iptables.ts";
import { missingIsolation, writeIsolationSetup } from "./isolation.ts";
import type { BridgeIsolation, ForwardAccessFeature } from "./types.ts";

/**
 * The reference's firewalld backend: each container address ("<ip>/32", "<ip>/128") is made a
 * source of a firewalld zone (trusted by default) over D-Bus, and firewalld lets the zone's
 * traffic through. Only firewalld's runtime configuration changes: a firewalld restart forgets
 * the sources, as it forgets the containers' networks. Bridge isolation, which firewalld has
 * no notion of, is iptables as with the iptables backend.
 */
export const DEFAULT_FIREWALLD_ZONE = "trusted";

const FIREWALLD = "org.fedoraproject.FirewallD1";
const FIREWALLD_PATH = "/org/fedoraproject/FirewallD1";
const ZONE_INTERFACE = `${FIREWALLD}.zone`;

/** firewalld's answers that mean "the source is not in this zone" when removing it. */
const NOT_IN_ZONE = ["UNKNOWN_SOURCE", "ZONE_CONFLICT", "INVALID_ZONE"];

export function zoneCall(method: "addSource" | "removeSource" | "querySource", zone: string, source: string): DbusMethodCall {
  return { destination: FIREWALLD, path: FIREWALLD_PATH, interface: ZONE_INTERFACE, method, signature: "ss", args: [zone, source] };
}

export const GET_ZONES: DbusMethodCall = {
  destination: FIREWALLD,
  path: FIREWALLD_PATH,
  interface: ZONE_INTERFACE,
  method: "getZones",
  signature: "",
  args: [],
};

/** Whether firewalld holds its name on the system bus, as the reference asks (GetNameOwner). */
export function firewalldRunning(executor: ToolExecutor): boolean {
  if (!systemBusMayBeReachable(executor)) return false; // no bus, so no firewalld on it
  const reply = callSystemBus(executor, {
    destination: "org.freedesktop.DBus",
    path: "/org/freedesktop/DBus",
    interface: "org.freedesktop.DBus",
    method: "GetNameOwner",
    signature: "s",
    args: [FIREWALLD],
  });
  return reply.ok;
}

export function firewalldForwardAccess(executor: ToolExecutor, zone: string): ForwardAccessFeature {
  const sources = (addresses: readonly string[]) => parseInterfaceAddresses(addresses).map((address) => address.host);
  const failed = (what: string, reply: Extract<DbusReply, { ok: false }>) =>
    new CniError(ErrorCode.FirewallFailed, `firewalld: ${what}: ${firewalldRunning(executor) ? reply.error : notRunning()}`);

  return {
    backend: "firewalld",

    setup({ addresses, isolation }) {
      for (const source of sources(addresses)) {
        const reply = callSystemBus(executor, zoneCall("addSource", zone, source));
        // Already a source of this zone: another attachment of the address, or an ADD repeated.
        if (!reply.ok && !reply.error.startsWith("ZONE_ALREADY_SET")) throw failed(`adding source ${source} to zone ${zone}`, reply);
      }
      if (isolation) setupIsolation(executor, addresses, isolation);
    },

    // Zone sources are bare addresses: nothing can carry the attachment, so without addresses nothing is found.
    teardown(_attachment, addresses) {
      for (const source of sources(addresses)) {
        const reply = callSystemBus(executor, zoneCall("removeSource", zone, source));
        if (reply.ok || NOT_IN_ZONE.some((code) => reply.error.startsWith(code))) continue;
        // A firewalld that is not running keeps no runtime sources: nothing is left to remove.
        if (!firewalldRunning(executor)) return;
        throw failed(`removing source ${source} from zone ${zone}`, reply);
      }
    },

    check({ addresses, isolation }) {
      const missing: string[] = [];
      for (const source of sources(addresses)) {
        const reply = callSystemBus(executor, zoneCall("querySource", zone, source));
        if (!reply.ok) {
          if (firewalldRunning(executor)) throw failed(`querying source ${source} of zone ${zone}`, reply);
          throw checkFailed([`firewalld (${notRunning()})`]);
        }
        if (reply.values[0] !== true) missing.push(`source ${source} in firewalld zone ${zone}`);
      }
      if (isolation) {
        for (const [family] of groupByFamily(addresses)) {
          const pieces = missingIsolation(readFilterTable(executor, family), isolation);
          missing.push(...pieces.map((piece) => `${piece} in ${IPTABLES_TOOLS[family].name} table ${FILTER}`));
        }
      }
      if (missing.length > 0) throw checkFailed(missing);
    },

    // Nothing tells which attachment a source was added for (see teardown).
    gc() {},

    ensureUsable(withIsolation) {
      if (!firewalldRunning(executor)) throw new CniError(ErrorCode.NotAvailable, `firewalld: ${notRunning()}`);
      const zones = callSystemBus(executor, GET_ZONES);
      if (!zones.ok) throw new CniError(ErrorCode.NotAvailable, `firewalld: listing zones: ${zones.error}`);
      const names = zones.values[0];
      if (!Array.isArray(names) || !names.includes(zone)) {
        throw new CniError(ErrorCode.NotAvailable, `firewalld has no zone "${zone}" (firewalldZone); it has ${Array.isArray(names) ? names.join(", ") : "none"}`);
      }
      if (withIsolation) ensureIptablesUsable(executor);
    },
  };
}

function setupIsolation(executor: ToolExecutor, addresses: readonly string[], isolation: BridgeIsolation): void {
  for (const [family] of groupByFamily(addresses)) {
    commitToFilterTable(executor, family, (current) => {
      const script = new RestoreScript(FILTER);
      writeIsolationSetup(script, current, isolation);
      return script;
    });
  }
}

function notRunning(): string {
  return `it is not running (no owner of ${FIREWALLD} on the system bus)`;
}
