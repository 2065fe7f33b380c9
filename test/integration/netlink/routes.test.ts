import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RT_TABLE_UNSPEC, RTPROT_STATIC, type RouteEntry, isExists, isNotFound } from "../../../lib/netlink/index.ts";
import { ipJson } from "../../helpers/netns.ts";
import { type NetlinkNamespace, netlinkNamespace, testSubnets, thrown, vethWithCarrier } from "./namespace.ts";

let ns: NetlinkNamespace;
let index: number;
const subnets = testSubnets();
const gateway = `${subnets.v4Prefix}.1`;
const gateway6 = `${subnets.v6Prefix}::1`;
const TABLE = 1000 + Math.floor(Math.random() * 1000);

beforeAll(() => {
  ns = netlinkNamespace("nlr");
  index = vethWithCarrier(ns, "r0");
  ns.nl.addAddress({ index, address: `${subnets.v4Prefix}.5`, prefixLength: 24 });
  ns.nl.addAddress({ index, address: `${subnets.v6Prefix}::5`, prefixLength: 64, noDad: true });
});

afterAll(() => ns?.remove());

function find(dst: string, table?: number): RouteEntry | undefined {
  return ns.nl.routes({ table, index }).find((route) => route.dst === dst);
}

describe("routes in the main table", () => {
  it("are added through a gateway with a metric", () => {
    ns.nl.addRoute({ dst: "10.250.0.0/16", gateway, index, priority: 50 });
    expect(find("10.250.0.0/16")).toMatchObject({ family: 4, gateway, index, priority: 50, table: 254, protocol: 3, scope: 0 });
    expect(ipJson<object[]>(["route", "show", "10.250.0.0/16"], ns.netns.name)).toEqual([
      expect.objectContaining({ dst: "10.250.0.0/16", gateway, dev: "r0", metric: 50 }),
    ]);
  });

  it("are added as link routes with scope link", () => {
    ns.nl.addRoute({ dst: "10.251.0.0/16", index });
    expect(find("10.251.0.0/16")).toMatchObject({ scope: 253 });
  });

  it("include the default route of the namespace", () => {
    ns.nl.addRoute({ dst: "0.0.0.0/0", gateway, index });
    expect(find("0.0.0.0/0")).toMatchObject({ gateway });
    expect(ipJson<object[]>(["route", "show", "default"], ns.netns.name)).toEqual([expect.objectContaining({ gateway })]);
  });

  it("are refused when already there (EEXIST), and replaced on request", () => {
    const caught = thrown(() => ns.nl.addRoute({ dst: "10.250.0.0/16", gateway, index, priority: 50 }));
    expect(isExists(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/^add route 10\.250\.0\.0\/16 via \S+ dev r0 metric 50: EEXIST/);

    ns.nl.addRoute({ dst: "10.250.0.0/16", index, priority: 50, protocol: RTPROT_STATIC }, "replace");
    expect(find("10.250.0.0/16")).toMatchObject({ protocol: RTPROT_STATIC, scope: 253 });
    expect(find("10.250.0.0/16")?.gateway).toBeUndefined();
  });

  it("are deleted, and deleting them again reports not found", () => {
    ns.nl.deleteRoute({ dst: "10.251.0.0/16", index });
    expect(find("10.251.0.0/16")).toBeUndefined();
    const caught = thrown(() => ns.nl.deleteRoute({ dst: "10.251.0.0/16", index }));
    expect(isNotFound(caught)).toBe(true);
  });

  it("refuse an unreachable gateway with the kernel's explanation", () => {
    expect(() => ns.nl.addRoute({ dst: "10.252.0.0/16", gateway: "10.253.0.1" })).toThrow(
      "add route 10.252.0.0/16 via 10.253.0.1: ENETUNREACH (Network is unreachable): Nexthop has invalid gateway",
    );
  });
});

describe("routes in a custom table", () => {
  it("are added with metric, mtu and advmss", () => {
    ns.nl.addRoute({ dst: "10.254.0.0/16", gateway, index, table: TABLE, priority: 100, mtu: 1400, advmss: 1360 });
    expect(find("10.254.0.0/16", TABLE)).toMatchObject({ table: TABLE, priority: 100, mtu: 1400, advmss: 1360, gateway });
    expect(find("10.254.0.0/16")).toBeUndefined();
    expect(ipJson<object[]>(["route", "show", "table", String(TABLE)], ns.netns.name)).toEqual([
      expect.objectContaining({ dst: "10.254.0.0/16", metric: 100, metrics: [{ mtu: 1400, advmss: 1360 }] }),
    ]);
  });

  it("show up when listing every table", () => {
    const tables = new Set(ns.nl.routes({ table: RT_TABLE_UNSPEC }).map((route) => route.table));
    expect([...tables]).toEqual(expect.arrayContaining([254, 255, TABLE]));
  });

  it("are deleted from their table", () => {
    ns.nl.deleteRoute({ dst: "10.254.0.0/16", table: TABLE });
    expect(find("10.254.0.0/16", TABLE)).toBeUndefined();
  });
});

describe("IPv6 routes", () => {
  it("are added, listed with their metric, and deleted", () => {
    ns.nl.addRoute({ dst: "fd99:1::/64", gateway: gateway6, index, priority: 1024, table: TABLE });
    expect(find("fd99:1::/64", TABLE)).toMatchObject({ family: 6, gateway: gateway6, priority: 1024 });
    ns.nl.addRoute({ dst: "::/0", gateway: gateway6, index });
    expect(ns.nl.routes({ family: 6 }).find((route) => route.dst === "::/0")).toMatchObject({ gateway: gateway6 });
    ns.nl.deleteRoute({ dst: "fd99:1::/64", table: TABLE });
    expect(find("fd99:1::/64", TABLE)).toBeUndefined();
  });

  it("are listed apart from IPv4 ones", () => {
    expect(ns.nl.routes({ family: 6 }).every((route) => route.family === 6)).toBe(true);
    expect(ns.nl.routes({ family: 4 }).every((route) => route.family === 4)).toBe(true);
  });
});
