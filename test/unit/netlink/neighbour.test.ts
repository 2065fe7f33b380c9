import { describe, expect, it } from "vitest";
import { NUD_NOARP, NUD_PERMANENT, RTM_NEWNEIGH } from "../../../lib/netlink/constants.ts";
import { encodeRequest } from "../../../lib/netlink/message.ts";
import { addNeighbourRequest, decodeNeighbour, deleteNeighbourRequest } from "../../../lib/netlink/neighbour.ts";
import { expectSameBytesAsIproute2, hex, iproute2Request, kernelMessages } from "./fixtures.ts";

describe("neighbours encode what `ip neigh` sends", () => {
  it("a permanent entry, replacing any existing one", () => {
    expectSameBytesAsIproute2(addNeighbourRequest({ index: 3, address: "10.1.0.9", mac: "02:00:00:00:00:09" }), "neigh");
  });

  it("a deletion, except that the state is left zero (iproute2 sends permanent; the kernel ignores it)", () => {
    const { bytes, seq } = iproute2Request("neighdel");
    const ours = encodeRequest(deleteNeighbourRequest({ index: 3, address: "10.1.0.9" }), seq);
    const theirs = Uint8Array.from(bytes);
    theirs[24] = 0; // ndm_state
    expect(hex(ours)).toBe(hex(theirs));
  });

  it("an IPv6 entry with another state", () => {
    const req = addNeighbourRequest({ index: 2, address: "fd00::9", mac: "02:00:00:00:00:0a", state: NUD_NOARP });
    expect(hex(encodeRequest(req, 1)).slice(32)).toBe(
      "0a000000" + "02000000" + "4000" + "0000" + // ndmsg: AF_INET6, index 2, NUD_NOARP
        "14000100fd000000000000000000000000000009" + // NDA_DST fd00::9
        "0a000200" + "02000000000a" + "0000", // NDA_LLADDR 02:00:00:00:00:0a, padded
    );
  });
});

describe("decoding a kernel neighbour dump", () => {
  const neighbours = kernelMessages("neighbours-dump")
    .filter((m) => m.type === RTM_NEWNEIGH)
    .map(decodeNeighbour);

  it("reads IPv4 and IPv6 entries with their link-layer address and state", () => {
    expect(neighbours).toContainEqual({ index: 2, family: 4, address: "10.1.0.9", mac: "02:00:00:00:00:09", state: NUD_PERMANENT, flags: 0 });
    expect(neighbours).toContainEqual({ index: 2, family: 6, address: "fd00::9", mac: "02:00:00:00:00:0a", state: NUD_PERMANENT, flags: 0 });
  });

  it("includes the kernel's own multicast entries", () => {
    expect(neighbours).toContainEqual(expect.objectContaining({ address: "ff02::16", state: NUD_NOARP }));
  });
});
