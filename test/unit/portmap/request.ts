import { parseInterfaceAddress } from "../../../lib/firewall/address.ts";
import type { PortMapping, PortMapRequest, PortMapSettings } from "../../../lib/firewall/portmap/types.ts";

/** The plugin's defaults. */
export const DEFAULT_SETTINGS: PortMapSettings = { snat: true, masqAll: false, markMasqBit: 13, conditionsV4: [], conditionsV6: [] };

export const V4 = parseInterfaceAddress("10.1.2.3/24");
export const V6 = parseInterfaceAddress("fd00:1::3/64");

/** Container ctr1 of network mynet at 10.1.2.3/24 and fd00:1::3/64 with these mappings. */
export function requestWith(mappings: PortMapping[], overrides: Partial<PortMapRequest> = {}, settings: Partial<PortMapSettings> = {}): PortMapRequest {
  return {
    network: "mynet",
    containerId: "ctr1",
    addresses: [`${V4.ip}/24`, `${V6.ip}/64`],
    mappings,
    ...overrides,
    settings: { ...DEFAULT_SETTINGS, ...settings },
  };
}
