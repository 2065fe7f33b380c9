import { describe, expect, it } from "vitest";
import { bridgeVlanRequest, decodeBridgeVlans, setBridgePortRequest } from "../../../lib/netlink/bridge.ts";
import { RTM_NEWLINK } from "../../../lib/netlink/constants.ts";
import { decodeLink } from "../../../lib/netlink/link.ts";
import { encodeRequest } from "../../../lib/netlink/message.ts";
import { expectSameBytesAsIproute2, fromHex, hex, kernelMessages } from "./fixtures.ts";

describe("bridge port settings encode what `bridge link set` sends", () => {
  it("hairpin, isolated and learning in a flagged nested IFLA_PROTINFO", () => {
    expectSameBytesAsIproute2(setBridgePortRequest(10, { hairpin: true, isolated: true, learning: false }), "brport");
  });

  it("only the settings that are given", () => {
    const req = setBridgePortRequest(10, { hairpin: true });
    // IFLA_PROTINFO | NLA_F_NESTED holding IFLA_BRPORT_MODE 1
    expect(hex(encodeRequest(req, 1)).slice(64)).toBe("0c000c80" + "0500040001000000");
  });
});

describe("bridge VLANs encode what `bridge vlan` sends", () => {
  it("add a PVID, untagged VLAN to a port", () => {
    expectSameBytesAsIproute2(bridgeVlanRequest("add", 10, { vid: 10, pvid: true, untagged: true }), "brvlan");
  });

  it("add a VLAN to the bridge itself (self)", () => {
    expectSameBytesAsIproute2(bridgeVlanRequest("add", 8, { vid: 10, self: true }), "brvlanself");
  });

  it("delete a VLAN from a port", () => {
    expectSameBytesAsIproute2(bridgeVlanRequest("delete", 10, { vid: 10 }), "brvlandel");
  });
});

describe("decoding an AF_BRIDGE dump", () => {
  const messages = kernelMessages("bridge-dump").filter((m) => m.type === RTM_NEWLINK);

  it("reads a port's settings from IFLA_PROTINFO", () => {
    const port = messages.map(decodeLink).find((link) => link.name === "port0");
    expect(port).toMatchObject({ master: 3, bridgePort: { hairpin: true, isolated: true, learning: false } });
  });

  it("finds no VLANs on a kernel without VLAN filtering", () => {
    expect(messages.map(decodeBridgeVlans)).toEqual([
      { index: 3, vlans: [] },
      { index: 5, vlans: [] },
    ]);
  });

  it("reads VLAN entries from IFLA_AF_SPEC", () => {
    // An AF_BRIDGE RTM_NEWLINK for index 5 whose IFLA_AF_SPEC lists VLAN 1 (PVID, untagged) and VLAN 10.
    const payload = fromHex(
      "07000000" + "05000000" + "00000000" + "00000000" + // ifinfomsg: AF_BRIDGE, index 5
        "14001a00" + "08000200" + "06000100" + "08000200" + "00000a00",
    );
    const message = { type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0, payload };
    expect(decodeBridgeVlans(message)).toEqual({
      index: 5,
      vlans: [
        { vid: 1, pvid: true, untagged: true },
        { vid: 10, pvid: false, untagged: false },
      ],
    });
  });
});
