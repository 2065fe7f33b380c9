/**
 * sbr chained after bridge: what ADD leaves in the container (rules, tables, the main table),
 * each key's effect, CHECK finding what was removed, DEL (idempotent, also with the namespace
 * gone) and a failed ADD leaving nothing behind.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";

interface IpRule {
  priority: number;
  src?: string;
  table: string;
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
  table?: string;
  prefsrc?: string;
}

let net: TestNetwork;
let netns: TestNetns;
let bridgeResult: { ips: { address: string; gateway: string }[] };

const sbrConfig = (extra: object = {}) => ({ cniVersion: "1.0.0", name: net.name, type: "sbr", ...extra });
const call = (command: PluginCall["command"], config: object): PluginCall => ({ command, containerId: "sb-life", netns: netns.path, ifname: "eth0", config });
const chained = (extra: object = {}) => ({ ...sbrConfig(extra), prevResult: bridgeResult });

function rules(family: 4 | 6): IpRule[] {
  return ipJson<IpRule[]>([`-${family}`, "rule", "show"], netns.name).filter((rule) => rule.src !== undefined && rule.src !== "all");
}
function routes(family: 4 | 6, table: string): IpRoute[] {
  // `ip route show table` fails for a table the kernel never had: no routes.
  if (table !== "main" && !netns.exec(["ip", `-${family}`, "route", "show", "table", "all"]).includes(`table ${table} `)) return [];
  return ipJson<IpRoute[]>([`-${family}`, "route", "show", "table", table], netns.name);
}
const v4 = () => bridgeResult.ips[0]!;
const v6 = () => bridgeResult.ips[1]!;
const bare = (cidr: string) => cidr.split("/")[0]!;

beforeEach(() => {
  net = createTestNetwork();
  netns = createNetns("sbl");
  bridgeResult = mustCall("bridge", call("ADD", net.bridgeConfig({ isDefaultGateway: true }))).json;
});

afterEach(() => {
  callPlugin("bridge", call("DEL", net.bridgeConfig()));
  netns.remove();
  net.cleanup();
});

describe("sbr ADD", () => {
  it("gives each address a rule to its own table, holding the interface's routes of its family, and passes the result through", () => {
    const outcome = mustCall("sbr", call("ADD", chained()));
    expect(outcome.json).toEqual(bridgeResult);
    expect(rules(4)).toEqual([expect.objectContaining({ src: bare(v4().address), table: "100" })]);
    expect(rules(6)).toEqual([expect.objectContaining({ src: bare(v6().address), table: "101" })]);
    expect(routes(4, "100")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: "default", gateway: v4().gateway, dev: "eth0" }),
        expect.objectContaining({ dst: net.subnets.v4, dev: "eth0", prefsrc: bare(v4().address) }),
      ]),
    );
    expect(routes(6, "100")).toEqual([]);
    expect(routes(6, "101").map((route) => route.dst).sort()).toEqual(["default", "fe80::/64", net.subnets.v6].sort());
    expect(routes(4, "main").filter((route) => route.dev === "eth0")).toEqual([]);
    expect(routes(6, "main").filter((route) => route.dev === "eth0")).toEqual([]);
  });

  it("skips a table some rule or route already uses", () => {
    netns.exec(["ip", "rule", "add", "from", "192.0.2.1", "lookup", "100"]);
    netns.exec(["ip", "route", "add", "blackhole", "198.51.100.0/24", "table", "101"]);
    mustCall("sbr", call("ADD", chained()));
    expect(rules(4).find((rule) => rule.src === bare(v4().address))?.table).toBe("102");
    expect(rules(6)[0]?.table).toBe("103");
  });

  it("with a table, only adds the rules and leaves the routes where they are", () => {
    const before = routes(4, "main");
    mustCall("sbr", call("ADD", chained({ table: 4242 })));
    expect(rules(4)).toEqual([expect.objectContaining({ src: bare(v4().address), table: "4242" })]);
    expect(rules(6)).toEqual([expect.objectContaining({ src: bare(v6().address), table: "4242" })]);
    expect(routes(4, "4242")).toEqual([]);
    expect(routes(4, "main")).toEqual(before);
  });

  it("routes a table's default through the configured gateway of its family", () => {
    const gateway = `${net.subnets.v4Prefix}.254`;
    mustCall("sbr", call("ADD", chained({ gateways: [gateway] })));
    expect(routes(4, "100")).toContainEqual(expect.objectContaining({ dst: "default", gateway }));
    expect(routes(6, "101")).toContainEqual(expect.objectContaining({ dst: "default", gateway: v6().gateway }));
  });

  it("with addSourceHints, keeps the subnet route in main with the address as source and moves only the default", () => {
    mustCall("sbr", call("ADD", chained({ addSourceHints: true })));
    const main = routes(4, "main").filter((route) => route.dev === "eth0");
    expect(main).toEqual([expect.objectContaining({ dst: net.subnets.v4, prefsrc: bare(v4().address) })]);
    expect(routes(4, "100")).toContainEqual(expect.objectContaining({ dst: "default", gateway: v4().gateway }));
  });

  it("that fails half-way leaves no rule, no table and the main table as it was", () => {
    const main4 = routes(4, "main");
    const main6 = routes(6, "main");
    // Not on the link: the table's default route cannot be added, after the IPv4 rule was.
    const outcome = callPlugin("sbr", call("ADD", chained({ gateways: ["fd99::1"] })));
    expect(outcome.status).not.toBe(0);
    expect(outcome.json.code).toBe(100);
    expect(rules(4)).toEqual([]);
    expect(rules(6)).toEqual([]);
    expect(routes(4, "100")).toEqual([]);
    expect(routes(6, "101")).toEqual([]);
    expect(routes(4, "main")).toEqual(main4);
    expect(routes(6, "main").map((route) => route.dst).sort()).toEqual(main6.map((route) => route.dst).sort());
  });

  it("without prevResult is code 7 naming prevResult", () => {
    const outcome = callPlugin("sbr", call("ADD", sbrConfig()));
    expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult") });
  });
});

describe("sbr CHECK", () => {
  beforeEach(() => {
    mustCall("sbr", call("ADD", chained()));
  });

  it("passes on what ADD made", () => {
    mustCall("sbr", call("CHECK", chained()));
  });

  it("finds a removed rule", () => {
    netns.exec(["ip", "rule", "del", "from", bare(v4().address), "lookup", "100"]);
    const outcome = callPlugin("sbr", call("CHECK", chained()));
    expect(outcome.json).toMatchObject({ code: 104, msg: expect.stringContaining(`no rule from ${bare(v4().address)}/32`) });
  });

  it("finds a table emptied of the interface's routes", () => {
    netns.exec(["ip", "route", "flush", "table", "100"]);
    const outcome = callPlugin("sbr", call("CHECK", chained()));
    expect(outcome.json).toMatchObject({ code: 104, msg: expect.stringContaining("table 100") });
  });
});

describe("sbr DEL", () => {
  it("removes the rules and the tables' routes, and again finds nothing to do", () => {
    mustCall("sbr", call("ADD", chained()));
    mustCall("sbr", call("DEL", chained()));
    expect(rules(4)).toEqual([]);
    expect(rules(6)).toEqual([]);
    expect(routes(4, "100")).toEqual([]);
    expect(routes(6, "101")).toEqual([]);
    mustCall("sbr", call("DEL", chained()));
  });

  it("finds the rules by prevResult's addresses when the interface has lost them", () => {
    mustCall("sbr", call("ADD", chained()));
    netns.exec(["ip", "addr", "flush", "dev", "eth0"]);
    mustCall("sbr", call("DEL", chained()));
    expect(rules(4)).toEqual([]);
    expect(rules(6)).toEqual([]);
  });

  it("with a table, removes only the rules that look it up", () => {
    mustCall("sbr", call("ADD", chained({ table: 4242 })));
    netns.exec(["ip", "rule", "add", "from", bare(v4().address), "lookup", "4343"]);
    mustCall("sbr", call("DEL", chained({ table: 4242 })));
    expect(rules(4)).toEqual([expect.objectContaining({ table: "4343" })]);
    expect(rules(6)).toEqual([]);
  });

  it("succeeds with the namespace gone, without prevResult, and on a config ADD would refuse", () => {
    mustCall("sbr", call("ADD", chained()));
    const gone = { ...call("DEL", sbrConfig({ gateways: ["not-an-address", "x", "y"] })), netns: "/run/netns/sb-no-such-namespace" };
    expect(callPlugin("sbr", gone).status).toBe(0);
    expect(callPlugin("sbr", call("DEL", sbrConfig({ gateways: "x" }))).status).toBe(0);
    expect(rules(4)).toEqual([]);
  });
});
