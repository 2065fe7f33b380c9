import { describe, expect, it } from "vitest";
import { attr } from "../../../lib/netlink/attributes.ts";
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  RTM_NEWQDISC,
  TC_H_INGRESS,
  TCA_KIND,
} from "../../../lib/netlink/constants.ts";
import {
  bridgeVlanInfo,
  fibRuleHdr,
  ifaddrmsg,
  ifinfomsg,
  ndmsg,
  nlmsghdr,
  rtmsg,
  tcmsg,
} from "../../../lib/netlink/headers.ts";
import { request } from "../../../lib/netlink/message.ts";
import { struct } from "../../../lib/netlink/struct.ts";
import { expectSameBytesAsIproute2, hex } from "./fixtures.ts";

describe("family headers", () => {
  it("have the sizes of the kernel's structs (sizeof on x86_64)", () => {
    expect([nlmsghdr, ifinfomsg, ifaddrmsg, rtmsg, ndmsg, fibRuleHdr, tcmsg, bridgeVlanInfo].map((s) => s.size)).toEqual([
      16, 16, 8, 12, 12, 12, 20, 4,
    ]);
  });

  it("leave fields that are not given zero", () => {
    expect(hex(ifinfomsg.encode({ index: 7 }))).toBe("00000000" + "07000000" + "00000000" + "00000000");
  });

  it("decode what they encode, including negative and network-order fields", () => {
    const layout = struct("example", { a: "u8", b: "u8", c: "u16be", d: "i32", e: "u32be" });
    const values = { a: 1, b: 2, c: 0x8100, d: -5, e: 0x0a000001 };
    expect(hex(layout.encode(values))).toBe("01028100fbffffff0a000001");
    expect(layout.decode(layout.encode(values))).toEqual(values);
  });

  it("refuse a layout a C compiler would pad", () => {
    expect(() => struct("bad", { a: "u8", b: "u32" })).toThrow("struct bad: field b is not naturally aligned");
  });

  it("refuse to decode from too few bytes", () => {
    expect(() => tcmsg.decode(new Uint8Array(12))).toThrow("struct tcmsg: need 20 bytes at offset 0, have 12");
  });
});

describe("tcmsg", () => {
  it("encodes what `tc qdisc add dev vv ingress` sends", () => {
    const header = tcmsg.encode({ index: 3, handle: 0xffff0000, parent: TC_H_INGRESS });
    const req = request(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, header, [attr.string(TCA_KIND, "ingress")]);
    expectSameBytesAsIproute2(req, "qdisc-ingress");
  });
});
