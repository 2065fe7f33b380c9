import { NetlinkError, type Link, type LinkChange, type Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, invalidConfig } from "../../lib/skel/errors.ts";
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

/** EINVAL, ERANGE, and EADDRNOTAVAIL (a MAC that is not a unicast address). */
const REFUSED_VALUE = [22, 34, 99];

/** Sets each configured value; a value the kernel refuses is a configuration error naming it. */
export function applyLinkSettings(nl: Rtnetlink, link: Link, settings: LinkSettings): void {
  for (const setting of APPLY_ORDER) {
    const value = settings[setting];
    if (value === undefined) continue;
    try {
      nl.setLink(link.index, change(setting, value));
    } catch (error) {
      if (error instanceof NetlinkError && REFUSED_VALUE.includes(error.errno)) {
        throw invalidConfig(setting, value, `${link.name} does not accept this ${SETTINGS[setting].words}: ${error.message}`);
      }
      throw error;
    }
  }
}

/** A setting that could not be put back; `refused` when the kernel refuses the value itself, so trying again cannot help. */
export interface RestoreFailure {
  message: string;
  refused: boolean;
}

/**
 * Puts saved values back, each on its own so one failure does not stop the rest; returns the
 * failures. A value the kernel refuses is one no later DEL could restore either (the all-zero
 * MAC of loopback, which tuning could change but not set back).
 */
export function restoreLinkSettings(nl: Rtnetlink, link: Link, saved: SavedState): RestoreFailure[] {
  const failures: RestoreFailure[] = [];
  for (const setting of RESTORE_ORDER) {
    const value = saved[setting];
    // As in the reference, an empty MAC and a zero MTU mean "not saved".
    if (value === undefined || ((setting === "mac" || setting === "mtu") && !value)) continue;
    try {
      nl.setLink(link.index, change(setting, value));
    } catch (error) {
      const refused = error instanceof NetlinkError && REFUSED_VALUE.includes(error.errno);
      failures.push({ message: `restore ${SETTINGS[setting].words}: ${(error as Error).message}`, refused });
    }
  }
  return failures;
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
