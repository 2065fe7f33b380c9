import { Failures } from "../../lib/core/index.ts";
import { isRefusedValue } from "../../lib/link/index.ts";
import type { Link, LinkChange, Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, invalidConfig } from "../../lib/skel/index.ts";
import type { LinkSettings } from "./config.ts";
import type { SavedState } from "./saved-state.ts";

type Setting = keyof LinkSettings;

/** Each setting's field in Link and LinkChange (both name them alike), and its name in messages. */
const SETTINGS: Record<Setting, { field: "mac" | "promisc" | "mtu" | "allmulti" | "txQueueLen"; words: string }> = {
  mac: { field: "mac", words: "MAC address" },
  promisc: { field: "promisc", words: "promiscuous mode" },
  mtu: { field: "mtu", words: "MTU" },
  allmulti: { field: "allmulti", words: "all-multicast mode" },
  txQLen: { field: "txQueueLen", words: "transmit queue length" },
};

type SettingValue = string | number | boolean;

function read(link: Link, setting: Setting): SettingValue | undefined {
  return link[SETTINGS[setting].field];
}

function change(setting: Setting, value: SettingValue): LinkChange {
  return { [SETTINGS[setting].field]: value };
}

/** The reference's orders, for ADD and for DEL. */
const APPLY_ORDER: Setting[] = ["mac", "promisc", "mtu", "allmulti", "txQLen"];
const RESTORE_ORDER: Setting[] = ["mtu", "mac", "promisc", "allmulti", "txQLen"];

/** The link's current values of the settings ADD is about to change: what DEL puts back. */
export function snapshot(link: Link, settings: LinkSettings): SavedState {
  const state: SavedState = {};
  for (const setting of APPLY_ORDER) {
    if (settings[setting] !== undefined) Object.assign(state, { [setting]: read(link, setting) });
  }
  return state;
}

/** Sets each configured value; a value the kernel refuses is a configuration error naming it. */
export function applyLinkSettings(nl: Rtnetlink, link: Link, settings: LinkSettings): void {
  for (const setting of APPLY_ORDER) {
    const value = settings[setting];
    if (value === undefined) continue;
    try {
      nl.setLink(link.index, change(setting, value));
    } catch (error) {
      if (isRefusedValue(error)) {
        throw invalidConfig(setting, value, `${link.name} does not accept this ${SETTINGS[setting].words}: ${error.message}`);
      }
      throw error;
    }
  }
}

/**
 * What a restore could not put back. `worthRetrying` is false when the kernel refused every
 * value itself (loopback's all-zero MAC, which tuning could change but not set back): no later
 * DEL could restore those either.
 */
export interface RestoreOutcome {
  failures: Failures;
  worthRetrying: boolean;
}

/** Puts saved values back, each on its own so one failure does not stop the rest. */
export function restoreLinkSettings(nl: Rtnetlink, link: Link, saved: SavedState): RestoreOutcome {
  const failures = new Failures();
  let worthRetrying = false;
  for (const setting of RESTORE_ORDER) {
    const value = saved[setting];
    // As in the reference, an empty MAC and a zero MTU mean "not saved".
    if (value === undefined || ((setting === "mac" || setting === "mtu") && !value)) continue;
    try {
      nl.setLink(link.index, change(setting, value));
    } catch (error) {
      if (!isRefusedValue(error)) worthRetrying = true;
      failures.add(error, `restore ${SETTINGS[setting].words}`);
    }
  }
  return { failures, worthRetrying };
}

/** CHECK: every configured value is what the link has now (code 104 naming setting, expected and actual). */
export function checkLinkSettings(link: Link, settings: LinkSettings): void {
  for (const setting of APPLY_ORDER) {
    const expected = settings[setting];
    if (expected === undefined) continue;
    const actual = read(link, setting);
    const same = typeof expected === "string" ? expected === String(actual).toLowerCase() : expected === actual;
    if (!same) {
      throw new CniError(
        ErrorCode.CheckFailed,
        `${link.name}: ${SETTINGS[setting].words} (${setting}) is ${describe(actual)}, configured ${describe(expected)}`,
      );
    }
  }
}

function describe(value: SettingValue | undefined): string {
  if (typeof value === "boolean") return value ? "on" : "off";
  return value === undefined ? "unset" : String(value);
}
