import { describe, expect, it } from "vitest";
import {
  bytesToIp,
  bytesToMac,
  ipToBytes,
  macToBytes,
  parsePrefix,
} from "../../../lib/netlink/addr-bytes.ts";
import { hex } from "./fixtures.ts";

describe("IP addresses", () => {
  it("turns IPv4 text into 4 bytes and back", () => {
    expect(hex(ipToBytes("10.1.0.255"))).toBe("0a0100ff");
    expect(bytesToIp(Uint8Array.of(192, 0, 2, 1))).toBe("192.0.2.1");
  });

  it.each([
    ["fd00::5", "fd000000000000000000000000000005"],
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["fe80::ff:fe00:1", "fe80000000000000000000fffe000001"],
    ["2001:db8:0:0:1:0:0:1", "20010db8000000000001000000000001"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
  ])("parses IPv6 %s", (text, bytes) => {
    expect(hex(ipToBytes(text))).toBe(bytes);
  });

  it.each([
    ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
    ["20010db8000000010000000000000001", "2001:db8:0:1::1"],
    ["00000000000000000000000000000000", "::"],
    ["fe800000000000000000000000000001", "fe80::1"],
    ["00000000000000000000ffffc0000201", "::ffff:192.0.2.1"],
    ["20010db8000100010001000100010001", "2001:db8:1:1:1:1:1:1"],
    ["20010000000000010000000000000000", "2001:0:0:1::"],
  ])("formats IPv6 bytes %s as %s (RFC 5952)", (bytes, text) => {
    expect(bytesToIp(new Uint8Array(Buffer.from(bytes, "hex")))).toBe(text);
  });

  it.each(["10.1.0", "10.1.0.256", "10.01.0.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "fe80::1%eth0", "1.2.3.4::", "g::1", ""])(
    "refuses %j",
    (text) => {
      expect(() => ipToBytes(text)).toThrow(/invalid IPv[46] address/);
    },
  );

  it("parses prefixes, giving a bare address its full length", () => {
    expect(parsePrefix("10.9.0.0/16")).toMatchObject({ family: 4, prefixLength: 16 });
    expect(parsePrefix("fd00::5")).toMatchObject({ family: 6, prefixLength: 128 });
    expect(parsePrefix("0.0.0.0/0").prefixLength).toBe(0);
  });

  it("refuses prefix lengths beyond the family's width", () => {
    expect(() => parsePrefix("10.0.0.0/33")).toThrow(/invalid prefix "10.0.0.0\/33": the length must be 0-32/);
    expect(() => parsePrefix("10.0.0.0/x")).toThrow(/invalid prefix/);
  });
});

describe("MAC addresses", () => {
  it("turns text into bytes and back in lower case", () => {
    expect(hex(macToBytes("02:42:AC:11:00:02"))).toBe("0242ac110002");
    expect(bytesToMac(Uint8Array.of(2, 0x42, 0xac, 0x11, 0, 2))).toBe("02:42:ac:11:00:02");
  });

  it("refuses malformed text", () => {
    expect(() => macToBytes("02-42-ac-11-00-02")).toThrow(/invalid MAC address "02-42-ac-11-00-02"/);
    expect(() => macToBytes("02:42:ac:11:00:")).toThrow(/invalid MAC address/);
  });
});
