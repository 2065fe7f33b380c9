import {
  IPVLAN_F_PRIVATE,
  IPVLAN_F_VEPA,
  IPVLAN_MODE_L2,
  IPVLAN_MODE_L3,
  IPVLAN_MODE_L3S,
  MACVLAN_MODE_BRIDGE,
  MACVLAN_MODE_PASSTHRU,
  MACVLAN_MODE_PRIVATE,
  MACVLAN_MODE_SOURCE,
  MACVLAN_MODE_VEPA,
} from "./constants.ts";

/** The modes of macvlan and ipvlan links by name, as `ip link` spells them, and their kernel numbers. */

export type MacvlanMode = "private" | "vepa" | "bridge" | "passthru" | "source";
export type IpvlanMode = "l2" | "l3" | "l3s";
/** How ipvlan slaves on one parent talk to each other; "bridge" is the kernel's default (no flag). */
export type IpvlanFlags = "bridge" | "private" | "vepa";

export const MACVLAN_MODES: Readonly<Record<MacvlanMode, number>> = {
  private: MACVLAN_MODE_PRIVATE,
  vepa: MACVLAN_MODE_VEPA,
  bridge: MACVLAN_MODE_BRIDGE,
  passthru: MACVLAN_MODE_PASSTHRU,
  source: MACVLAN_MODE_SOURCE,
};

export const IPVLAN_MODES: Readonly<Record<IpvlanMode, number>> = {
  l2: IPVLAN_MODE_L2,
  l3: IPVLAN_MODE_L3,
  l3s: IPVLAN_MODE_L3S,
};

export const IPVLAN_FLAGS: Readonly<Record<IpvlanFlags, number>> = {
  bridge: 0,
  private: IPVLAN_F_PRIVATE,
  vepa: IPVLAN_F_VEPA,
};

function nameOf<N extends string>(table: Readonly<Record<N, number>>, fallback: N): (value: number) => N {
  return (value) => (Object.keys(table) as N[]).find((name) => table[name] === value) ?? fallback;
}

/** The kernel's default macvlan mode is vepa. */
export const macvlanModeName = nameOf(MACVLAN_MODES, "vepa");
export const ipvlanModeName = nameOf(IPVLAN_MODES, "l3");
export const ipvlanFlagsName = nameOf(IPVLAN_FLAGS, "bridge");
