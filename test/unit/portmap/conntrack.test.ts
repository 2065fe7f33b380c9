import { describe, expect, it } from "vitest";
import { clearStaleUdpEntries, CTNETLINK, explainMissingCtnetlink } from "../../../lib/firewall/conntrack/index.ts";
import { dumpEntriesRequest, parseEntry } from "../../../lib/firewall/conntrack/messages.ts";
import { attr, encodeAttributes } from "../../../lib/netlink/attributes.ts";
import { NetlinkError } from "../../../lib/netlink/errors.ts";
import { encodeRequest, type NetlinkMessage } from "../../../lib/netlink/message.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const NESTED = 0x8000;

/** A conntrack entry as the kernel dumps it: nfgenmsg, then the original and reply tuples, ID and zone. */
function dumpedEntry(protocol: number, destinationPort: number): NetlinkMessage {
  const tuple = (source: number[], destination: number[], sport: number, dport: number) => [
    attr.nested(1 | NESTED, [attr.bytes(1, Uint8Array.from(source)), attr.bytes(2, Uint8Array.from(destination))]),
    attr.nested(2 | NESTED, [attr.u8(1, protocol), attr.u16be(2, sport), attr.u16be(3, dport)]),
  ];
  const payload = Buffer.concat([
    Uint8Array.of(2, 0, 0, 0),
    encodeAttributes([
      attr.nested(1 | NESTED, tuple([192, 0, 2, 7], [192, 0, 2, 1], 40000, destinationPort)),
      attr.nested(2 | NESTED, tuple([10, 1, 2, 3], [192, 0, 2, 7], 53, 40000)),
      attr.u32be(12, 0xdeadbeef),
      attr.u16be(18, 0),
    ]),
  ]);
  return { type: 0x0100, flags: 2, seq: 1, pid: 0, payload };
}

describe("conntrack over netlink", () => {
  it("asks for one family's entries with a CTNETLINK GET dump", () => {
    // nlmsghdr: length 20, type CTNETLINK<<8 | GET, flags REQUEST|DUMP, seq 7, pid 0; nfgenmsg: AF_INET, v0, res_id 0.
    expect(hex(encodeRequest(dumpEntriesRequest(4), 7))).toBe("14000000" + "0101" + "0103" + "07000000" + "00000000" + "02000000");
    expect(hex(encodeRequest(dumpEntriesRequest(6), 7)).slice(-8)).toBe("0a000000");
  });

  it("reads protocol and destination port of the original direction", () => {
    const entry = parseEntry(dumpedEntry(17, 5353));
    expect(entry.protocol).toBe(17);
    expect(entry.destinationPort).toBe(5353);
  });

  it("deletes an entry by its original tuple, zone and ID, asking for an acknowledgement", () => {
    const message = dumpedEntry(17, 5353);
    const request = parseEntry(message).deleteRequest;
    expect(request.type).toBe(0x0102);
    expect(request.flags).toBe(0x04);
    const original = message.payload.subarray(4, 4 + 52);
    const id = "0800" + "0c00" + "deadbeef";
    const zone = "0600" + "1200" + "0000" + "0000";
    expect(hex(request.payload)).toBe("02000000" + hex(original) + zone + id);
  });

  it("recognises a kernel without ctnetlink: no NETLINK_NETFILTER, or EINVAL/EOPNOTSUPP for the conntrack subsystem", () => {
    const open = explainMissingCtnetlink(new NetlinkError("open a NETLINK_NETFILTER socket (socket)", 93), "open");
    expect(open).toMatchObject({ missingFeature: CTNETLINK });
    expect((open as Error).message).toBe(
      "open a NETLINK_NETFILTER socket (socket): kernel lacks ctnetlink (nf_conntrack_netlink) support (EPROTONOSUPPORT)",
    );
    for (const errno of [22, 95]) {
      expect(explainMissingCtnetlink(new NetlinkError("dump the IPv4 conntrack table", errno), "dump")).toMatchObject({ missingFeature: CTNETLINK });
    }
  });

  it("leaves other failures as they are", () => {
    const denied = new NetlinkError("dump the IPv4 conntrack table", 1);
    expect(explainMissingCtnetlink(denied, "dump")).toBe(denied);
    const invalidOpen = new NetlinkError("open a NETLINK_NETFILTER socket (socket)", 22);
    expect(explainMissingCtnetlink(invalidOpen, "open")).toBe(invalidOpen);
  });
});

describe("clearing stale UDP entries", () => {
  it("asks each family once for all the ports, and says nothing when that works", () => {
    const calls: [number, readonly number[]][] = [];
    const warnings: string[] = [];
    clearStaleUdpEntries([5353, 5354], [4, 6], (message) => warnings.push(message), (family, ports) => {
      calls.push([family, ports]);
      return 1;
    });
    expect(calls).toEqual([
      [4, [5353, 5354]],
      [6, [5353, 5354]],
    ]);
    expect(warnings).toEqual([]);
  });

  it("does nothing without UDP ports", () => {
    let called = false;
    clearStaleUdpEntries([], [4], () => undefined, () => {
      called = true;
      return 0;
    });
    expect(called).toBe(false);
  });

  it("only warns, clearly, when the kernel lacks ctnetlink, and goes on with the other family", () => {
    const warnings: string[] = [];
    const families: number[] = [];
    clearStaleUdpEntries([5353], [4, 6], (message) => warnings.push(message), (family) => {
      families.push(family);
      throw new NetlinkError(`dump the IPv${family} conntrack table`, 22).asMissingFeature(CTNETLINK);
    });
    expect(families).toEqual([4, 6]);
    expect(warnings).toEqual([
      "could not clear stale conntrack entries for UDP ports 5353 (IPv4): dump the IPv4 conntrack table: kernel lacks ctnetlink (nf_conntrack_netlink) support (EINVAL); UDP flows that reached these ports before keep their old destination until conntrack expires them",
      expect.stringContaining("(IPv6): dump the IPv6 conntrack table: kernel lacks ctnetlink"),
    ]);
  });

  it("only warns on any other failure too", () => {
    const warnings: string[] = [];
    clearStaleUdpEntries([5353], [4], (message) => warnings.push(message), () => {
      throw new NetlinkError("dump the IPv4 conntrack table", 1);
    });
    expect(warnings).toEqual(["could not clear stale conntrack entries for UDP ports 5353 (IPv4): dump the IPv4 conntrack table: EPERM (Operation not permitted)"]);
  });
});
