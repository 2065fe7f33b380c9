import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NUD_PERMANENT, NUD_REACHABLE, isExists, isNotFound } from "../../../lib/netlink/index.ts";
import { ipJson } from "../../helpers/netns.ts";
import { type NetlinkNamespace, netlinkNamespace, testSubnets, thrown, vethWithCarrier } from "./namespace.ts";

let ns: NetlinkNamespace;
let index: number;
const subnets = testSubnets();
const neighbour = `${subnets.v4Prefix}.9`;
const neighbour6 = `${subnets.v6Prefix}::9`;

beforeAll(() => {
  ns = netlinkNamespace("nln");
  index = vethWithCarrier(ns, "n0");
});

afterAll(() => ns?.remove());

describe("neighbours", () => {
  it("are added as permanent entries", () => {
    ns.nl.addNeighbour({ index, address: neighbour, mac: "02:00:00:00:50:01" });
    expect(ns.nl.neighbours({ index, family: 4 })).toContainEqual(
      expect.objectContaining({ address: neighbour, mac: "02:00:00:00:50:01", state: NUD_PERMANENT }),
    );
    expect(ipJson<object[]>(["neigh", "show", "dev", "n0"], ns.netns.name)).toContainEqual(
      expect.objectContaining({ dst: neighbour, lladdr: "02:00:00:00:50:01", state: ["PERMANENT"] }),
    );
  });

  it("are replaced by a second add", () => {
    ns.nl.addNeighbour({ index, address: neighbour, mac: "02:00:00:00:50:02", state: NUD_REACHABLE });
    const entries = ns.nl.neighbours({ index }).filter((entry) => entry.address === neighbour);
    expect(entries).toEqual([expect.objectContaining({ mac: "02:00:00:00:50:02", state: NUD_REACHABLE })]);
  });

  it("work for IPv6", () => {
    ns.nl.addNeighbour({ index, address: neighbour6, mac: "02:00:00:00:50:03" });
    expect(ns.nl.neighbours({ family: 6 })).toContainEqual(expect.objectContaining({ address: neighbour6, family: 6, index }));
  });

  it("are deleted, and deleting them again reports not found", () => {
    ns.nl.deleteNeighbour({ index, address: neighbour });
    ns.nl.deleteNeighbour({ index, address: neighbour6 });
    expect(ns.nl.neighbours({ index }).map((entry) => entry.address)).not.toContain(neighbour);
    const caught = thrown(() => ns.nl.deleteNeighbour({ index, address: neighbour }));
    expect(isNotFound(caught)).toBe(true);
    expect((caught as Error).message).toBe(`delete neighbour ${neighbour} on n0: ENOENT (No such file or directory)`);
  });
});

describe("policy routing rules", () => {
  const src = `${subnets.v4Prefix}.5/32`;

  it("list the namespace's default rules", () => {
    expect(ns.nl.rules(4).map((rule) => [rule.priority, rule.table])).toEqual([
      [0, 255],
      [32766, 254],
      [32767, 253],
    ]);
  });

  it("are added from a source to a table", () => {
    ns.nl.addRule({ family: 4, src, table: 100, priority: 1000 });
    expect(ns.nl.rules(4)).toContainEqual({ family: 4, src, table: 100, priority: 1000 });
    expect(ipJson<object[]>(["rule", "show"], ns.netns.name)).toContainEqual(
      expect.objectContaining({ priority: 1000, src: src.replace("/32", ""), table: "100" }),
    );
  });

  it("go to tables above 255 and match interfaces and destinations", () => {
    ns.nl.addRule({ family: 4, dst: "10.2.0.0/16", iif: "n0", oif: "lo", table: 5000, priority: 1001 });
    expect(ns.nl.rules(4)).toContainEqual({ family: 4, dst: "10.2.0.0/16", iif: "n0", oif: "lo", table: 5000, priority: 1001 });
  });

  it("are refused when an identical one exists (EEXIST)", () => {
    const caught = thrown(() => ns.nl.addRule({ family: 4, src, table: 100, priority: 1000 }));
    expect(isExists(caught)).toBe(true);
    expect((caught as Error).message).toBe(`add rule from ${src} lookup 100 priority 1000 (IPv4): EEXIST (File exists)`);
  });

  it("work for IPv6", () => {
    ns.nl.addRule({ family: 6, src: `${subnets.v6Prefix}::5/128`, table: 100, priority: 1000 });
    expect(ns.nl.rules(6)).toContainEqual({ family: 6, src: `${subnets.v6Prefix}::5/128`, table: 100, priority: 1000 });
    ns.nl.deleteRule({ family: 6, priority: 1000 });
    expect(ns.nl.rules(6).map((rule) => rule.priority)).not.toContain(1000);
  });

  it("are deleted, and deleting them again reports not found", () => {
    ns.nl.deleteRule({ family: 4, src, table: 100, priority: 1000 });
    ns.nl.deleteRule({ family: 4, table: 5000, priority: 1001 });
    expect(ns.nl.rules(4).map((rule) => rule.priority)).toEqual([0, 32766, 32767]);
    expect(() => ns.nl.deleteRule({ family: 4, src, table: 100, priority: 1000 })).toThrow(/ENOENT/);
  });
});
