/**
 * Our sbr against the reference (/usr/lib/cni/sbr, containernetworking-plugins 1.1.1, which has
 * none of the keys `table`, `gateways`, `addSourceHints`): two namespaces set up alike by hand
 * (an interface with the addresses and routes a main plugin leaves), the same configuration and
 * prevResult through each, then the results, the rules and every table's routes compared.
 *
 * Where we differ on purpose, the case says so:
 * - An address takes only routes of its own family into its table. The reference also copies
 *   the IPv6 routes without source or gateway (the subnet's, fe80::/64) into an IPv4 address's
 *   table and, without an IPv6 address, takes fe80::/64 out of the main table, which breaks
 *   IPv6 link-local traffic.
 * - DEL also removes the routes of the tables it chose; the reference leaves them.
 * - Bad input: the reference answers 999; we answer 7 (the spec's code for bad configuration).
 */
import { afterEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../helpers/netns.ts";
import { REFERENCE_BIN } from "../helpers/paths.ts";

const REFERENCE = `${REFERENCE_BIN}/sbr`;
type Family = 4 | 6;

interface Row {
  family: Family;
  table: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
}

const namespaces: TestNetns[] = [];
afterEach(() => {
  for (const netns of namespaces.splice(0)) netns.remove();
});

/** A container as a main plugin leaves it: eth0 with its addresses and default routes, and net1. */
function container(options: { v6: boolean; extraRuleTable?: number }): TestNetns {
  const netns = createNetns("sbd");
  namespaces.push(netns);
  const run = (...args: string[]) => netns.exec(["ip", ...args]);
  run("link", "add", "eth0", "type", "veth", "peer", "name", "peer0");
  run("link", "add", "net1", "type", "veth", "peer", "name", "peer1");
  for (const link of ["eth0", "peer0", "net1", "peer1"]) run("link", "set", link, "up");
  run("addr", "add", "10.77.1.5/24", "dev", "eth0");
  run("addr", "add", "10.77.2.5/24", "dev", "net1");
  run("route", "add", "default", "via", "10.77.1.1", "dev", "eth0");
  run("route", "add", "192.168.77.0/24", "via", "10.77.1.254", "dev", "eth0");
  if (options.v6) {
    run("-6", "addr", "add", "fd77:1::5/64", "dev", "eth0", "nodad");
    run("-6", "route", "add", "default", "via", "fd77:1::1", "dev", "eth0");
  }
  if (options.extraRuleTable !== undefined) run("rule", "add", "from", "192.0.2.9", "lookup", String(options.extraRuleTable));
  return netns;
}

function rules(netns: TestNetns): unknown[] {
  return ([4, 6] as const).flatMap((family) => ipJson<{ priority: number; src?: string; table: string }[]>([`-${family}`, "rule", "show"], netns.name).map((rule) => ({ family, ...rule })));
}

function routes(netns: TestNetns): Row[] {
  return ([4, 6] as const)
    .flatMap((family) =>
      ipJson<Omit<Row, "family">[]>([`-${family}`, "route", "show", "table", "all"], netns.name).map(({ table, dst, gateway, dev, protocol, scope, prefsrc, metric }) => ({
        family,
        table: table ?? "main",
        dst,
        ...(gateway !== undefined && { gateway }),
        ...(dev !== undefined && { dev }),
        ...(protocol !== undefined && { protocol }),
        ...(scope !== undefined && { scope }),
        ...(prefsrc !== undefined && { prefsrc }),
        ...(metric !== undefined && { metric }),
      })),
    )
    .filter((row) => row.table !== "local" && row.dev !== "peer0" && row.dev !== "peer1")
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function runBoth(config: object, v6: boolean, extraRuleTable?: number) {
  const outcome = (binary: string) => {
    const netns = container({ v6, ...(extraRuleTable !== undefined && { extraRuleTable }) });
    const call = { command: "ADD" as const, containerId: "sb-diff", netns: netns.path, ifname: "eth0", config };
    const added = callPlugin(binary, call);
    return { netns, call, added, rules: rules(netns), routes: routes(netns) };
  };
  return { reference: outcome(REFERENCE), ours: outcome("sbr") };
}

/** The reference's state as ours has it: IPv6 routes only in IPv6 tables, fe80::/64 kept in main without an IPv6 address. */
function withOwnFamilyOnly(rows: Row[], v4Tables: string[], hasV6Address: boolean): Row[] {
  const texts = rows
    .filter((row) => !(row.family === 6 && v4Tables.includes(row.table) && hasV6Address))
    .map((row) => JSON.stringify(row.family === 6 && v4Tables.includes(row.table) ? { ...row, table: "main" } : row));
  // Copied into several IPv4 tables, the route is one route in main.
  return [...new Set(texts)].map((text) => JSON.parse(text) as Row).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const eth0 = (sandbox = "/var/run/netns/x") => ({ name: "eth0", sandbox });

describe("sbr ADD does what the reference does", () => {
  const cases: [string, string, object, boolean, string[]][] = [
    [
      "dual stack at 1.0.0",
      "1.0.0",
      { cniVersion: "1.0.0", interfaces: [eth0()], ips: [{ address: "10.77.1.5/24", gateway: "10.77.1.1", interface: 0 }, { address: "fd77:1::5/64", gateway: "fd77:1::1", interface: 0 }] },
      true,
      ["100"],
    ],
    [
      "IPv4 at 0.3.1, with an address of another interface skipped",
      "0.3.1",
      {
        cniVersion: "0.3.1",
        interfaces: [eth0(), { name: "net1", sandbox: "x" }],
        ips: [
          { version: "4", address: "10.77.1.5/24", gateway: "10.77.1.1", interface: 0 },
          { version: "4", address: "10.77.2.5/24", interface: 1 },
        ],
      },
      false,
      ["100"],
    ],
    [
      "IPv4 at 0.4.0, with an address that names no interface (it counts)",
      "0.4.0",
      { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.77.1.5/24", gateway: "10.77.1.1" }, { version: "4", address: "10.77.2.5/24" }] },
      false,
      ["100", "101"],
    ],
    ["the 0.2.0 result shape", "0.2.0", { cniVersion: "0.2.0", ip4: { ip: "10.77.1.5/24", gateway: "10.77.1.1" } }, false, ["100"]],
  ];
  it.each(cases)("%s", (_what, cniVersion, prevResult, v6, v4Tables) => {
    const config = { cniVersion, name: "sb-diff", type: "sbr", prevResult };
    const { reference, ours } = runBoth(config, v6);
    expect(reference.added.status, reference.added.stdout).toBe(0);
    expect(ours.added.status, ours.added.stdout).toBe(0);
    expect(ours.added.json).toEqual(reference.added.json);
    expect(ours.rules).toEqual(reference.rules);
    expect(ours.routes).toEqual(withOwnFamilyOnly(reference.routes, v4Tables, v6));
  });

  it("skips a table an existing rule looks up, as the reference does", () => {
    const prevResult = { cniVersion: "1.0.0", interfaces: [eth0()], ips: [{ address: "10.77.1.5/24", gateway: "10.77.1.1", interface: 0 }] };
    const { reference, ours } = runBoth({ cniVersion: "1.0.0", name: "sb-diff", type: "sbr", prevResult }, false, 100);
    expect(ours.rules).toEqual(reference.rules);
    expect(ours.rules).toContainEqual(expect.objectContaining({ src: "10.77.1.5", table: "101" }));
    expect(ours.routes).toEqual(withOwnFamilyOnly(reference.routes, ["101"], false));
  });

  it("DEL removes the same rules; ours also the table's routes", () => {
    const prevResult = { cniVersion: "1.0.0", interfaces: [eth0()], ips: [{ address: "10.77.1.5/24", gateway: "10.77.1.1", interface: 0 }] };
    const config = { cniVersion: "1.0.0", name: "sb-diff", type: "sbr", prevResult };
    const { reference, ours } = runBoth(config, false);
    mustCall(REFERENCE, { ...reference.call, command: "DEL" });
    mustCall("sbr", { ...ours.call, command: "DEL" });
    expect(rules(ours.netns)).toEqual(rules(reference.netns));
    expect(rules(ours.netns)).not.toContainEqual(expect.objectContaining({ src: "10.77.1.5" }));
    expect(routes(reference.netns).filter((row) => row.table === "100").length).toBeGreaterThan(0);
    expect(routes(ours.netns).filter((row) => row.table === "100")).toEqual([]);
  });

  it("both refuse a missing prevResult (the reference with 999, ours with 7)", () => {
    const { reference, ours } = runBoth({ cniVersion: "1.0.0", name: "sb-diff", type: "sbr" }, false);
    expect(reference.added.status).not.toBe(0);
    expect(ours.added.json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult") });
    expect(ours.rules).toEqual(reference.rules);
  });
});
