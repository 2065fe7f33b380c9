import { describe, expect, it } from "vitest";
import { IPAddress } from "../../../lib/ip/index.ts";
import { allocate, candidates, normalizeIpamConfig, toIPConfig, type RangeInput, type RangeSet } from "../../../lib/ipam/index.ts";
import { FakeStore } from "./fake-store.ts";

function rangeSet(...ranges: RangeInput[]): RangeSet {
  return normalizeIpamConfig({ name: "n", cniVersion: "1.0.0", ipam: { ranges: [ranges] } }).rangeSets[0]!;
}

function order(set: RangeSet, lastReserved?: string): string[] {
  return [...candidates(set, lastReserved === undefined ? undefined : IPAddress.parse(lastReserved))].map(({ ip }) => ip.toString());
}

const alice = { containerId: "alice", ifname: "eth0" };

describe("the reference's allocation order", () => {
  const small = rangeSet({ subnet: "10.0.0.0/29" });

  it("starts at the range start, skipping the gateway, and ends before the broadcast address", () => {
    expect(order(small)).toEqual(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
  });

  it("resumes after the last reserved address and wraps around to it", () => {
    expect(order(small, "10.0.0.3")).toEqual(["10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.2", "10.0.0.3"]);
  });

  it("wraps to the start when the last reserved address is the range end", () => {
    expect(order(small, "10.0.0.6")).toEqual(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
  });

  it("starts over when the last reserved address is outside the range set", () => {
    expect(order(small, "10.0.0.128")).toEqual(order(small));
    expect(order(small, "fd00::1")).toEqual(order(small));
  });

  it("skips a gateway in the middle of the range", () => {
    expect(order(rangeSet({ subnet: "10.0.0.0/29", gateway: "10.0.0.4" }))).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6"]);
  });

  it("resumes from a last reserved address that is the gateway", () => {
    expect(order(small, "10.0.0.1")).toEqual(order(small));
  });

  it("goes through every range of a set in turn, wrapping from the last to the first", () => {
    const twoRanges = rangeSet({ subnet: "10.0.0.0/29", rangeStart: "10.0.0.4" }, { subnet: "10.0.1.0/30" });
    expect(order(twoRanges)).toEqual(["10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.1.2"]);
    expect(order(twoRanges, "10.0.0.6")).toEqual(["10.0.1.2", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
    expect(order(twoRanges, "10.0.1.2")).toEqual(["10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.1.2"]);
  });

  it("counts IPv6 up to the last address of the subnet", () => {
    expect(order(rangeSet({ subnet: "fd00::/125" }), "fd00::5")).toEqual(["fd00::6", "fd00::7", "fd00::2", "fd00::3", "fd00::4", "fd00::5"]);
  });

  it("offers nothing from a range whose only address is its gateway", () => {
    expect(order(rangeSet({ subnet: "10.0.0.0/30", rangeEnd: "10.0.0.1" }))).toEqual([]);
  });
});

describe("allocate", () => {
  const set = rangeSet({ subnet: "10.0.0.0/29" });

  it("reserves the next free address in order and records it as the last reserved", () => {
    const store = new FakeStore({ "10.0.0.4": "x\r\neth0", "10.0.0.5": "y\r\neth0" }, { 0: "10.0.0.3" });
    const allocation = allocate(store, set, 0, alice, undefined);
    expect(toIPConfig(allocation)).toEqual({ address: "10.0.0.6/29", gateway: "10.0.0.1" });
    expect(store.leases.get("10.0.0.6")).toBe("alice\r\neth0");
    expect(store.last.get(0)).toBe("10.0.0.6");
  });

  it("reserves the last reserved address itself when everything else is taken", () => {
    const store = new FakeStore({ "10.0.0.2": "a", "10.0.0.4": "b", "10.0.0.5": "c", "10.0.0.6": "d" }, { 0: "10.0.0.3" });
    expect(allocate(store, set, 0, alice, undefined).ip.toString()).toBe("10.0.0.3");
  });

  it("fails with code 103 naming the range set when no address is free", () => {
    const store = new FakeStore(Object.fromEntries(["2", "3", "4", "5", "6"].map((n) => [`10.0.0.${n}`, "x"])));
    expect(() => allocate(store, set, 2, alice, undefined)).toThrow(
      expect.objectContaining({ code: 103, message: "no IP addresses available in range set 2 (10.0.0.1-10.0.0.6)" }),
    );
  });

  it("reserves a requested address out of order", () => {
    const store = new FakeStore();
    expect(toIPConfig(allocate(store, set, 0, alice, IPAddress.parse("10.0.0.5")))).toEqual({ address: "10.0.0.5/29", gateway: "10.0.0.1" });
    expect(store.last.get(0)).toBe("10.0.0.5");
  });

  it("fails with code 105 naming the holder when the requested address is reserved", () => {
    const store = new FakeStore({ "10.0.0.5": "bob\r\neth1" });
    expect(() => allocate(store, set, 0, alice, IPAddress.parse("10.0.0.5"))).toThrow(
      expect.objectContaining({
        code: 105,
        message: "requested IP 10.0.0.5 of range set 0 (10.0.0.1-10.0.0.6) is already reserved by container bob interface eth1",
      }),
    );
  });

  it("refuses a second address of the same range set for one attachment (code 105), as the reference does", () => {
    const store = new FakeStore({ "10.0.0.3": "alice\r\neth0" });
    expect(() => allocate(store, set, 0, alice, undefined)).toThrow(
      expect.objectContaining({ code: 105, message: expect.stringContaining("10.0.0.3 of range set 0 is already reserved for container alice interface eth0") }),
    );
    // ...counting leases in the oldest format, which name only the container.
    expect(() => allocate(new FakeStore({ "10.0.0.3": "alice" }), set, 0, alice, undefined)).toThrow(expect.objectContaining({ code: 105 }));
    // Another interface of the same container is another attachment.
    expect(allocate(store, set, 0, { containerId: "alice", ifname: "eth1" }, undefined).ip.toString()).toBe("10.0.0.2");
  });
});
