/**
 * The same macvlan configuration through the reference macvlan + host-local (Debian's
 * containernetworking-plugins 1.1.1) and through ours, each with a "host" namespace of the
 * test's own holding the master (a veth end), comparing what a user can observe: the result,
 * the container's link, addresses, routes and sysctls, and the host-local files. Each suite's
 * attachment is then deleted by the other suite's plugin, which must leave no link and no lease.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mustCall } from "../helpers/cni.ts";
import type { TestNetns } from "../helpers/netns.ts";
import { OUR_BIN, REFERENCE_BIN } from "../helpers/paths.ts";
import { MacvlanWorld, worldPerTest } from "../integration/macvlan/world.ts";

const SUITES = { reference: REFERENCE_BIN, ours: OUR_BIN } as const;
type Suite = keyof typeof SUITES;
const OTHER: Record<Suite, Suite> = { reference: "ours", ours: "reference" };

interface Observation {
  result: unknown;
  link: unknown;
  addresses: string[];
  routes: string[];
  arpNotify: string;
  leaseFiles: Record<string, string>;
  afterOtherDel: { link: boolean; leases: string[] };
}

function observe(suite: Suite, world: MacvlanWorld, config: Record<string, unknown>, args: string | undefined): Observation {
  const netns = world.container();
  const dataDir = join(world.dir, suite);
  const withDataDir = config.ipam ? { ...config, ipam: { ...(config.ipam as object), dataDir } } : config;
  const call = (which: Suite, command: "ADD" | "DEL", conf: Record<string, unknown>) =>
    mustCall(join(SUITES[which], "macvlan"), { command, config: conf, containerId: "diff", netns: netns.path, ifname: "eth0", args, host: world.host.name, path: SUITES[which] });
  const result = call(suite, "ADD", withDataDir).json;
  const link = world.link(netns)!;
  const observation = {
    result: normalize(result, netns, config),
    link: { kind: link.linkinfo?.info_kind, mode: link.linkinfo?.info_data?.mode, mtu: link.mtu, operstate: link.operstate, mac: config.mac ? link.address : "<random>" },
    addresses: (link.addr_info ?? []).filter((a) => a.scope !== "link").map((a) => `${a.local}/${a.prefixlen} ${a.scope}`).sort(),
    routes: netns.exec(["ip", "-4", "route", "show"]).split("\n").filter(Boolean).sort(),
    arpNotify: netns.exec(["sysctl", "-n", "net.ipv4.conf.eth0.arp_notify"]).trim(),
    leaseFiles: leaseFiles(join(dataDir, String(config.name))),
  };
  call(OTHER[suite], "DEL", { ...withDataDir, prevResult: result });
  return { ...observation, afterOtherDel: { link: world.link(netns) !== undefined, leases: Object.keys(leaseFiles(join(dataDir, String(config.name)))) } };
}

/** Random MACs differ run to run by design; a configured one must match. */
function normalize(result: unknown, netns: TestNetns, config: Record<string, unknown>): unknown {
  let text = JSON.stringify(result).replaceAll(netns.path, "<netns>");
  if (!config.mac) text = text.replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"<mac>"');
  return JSON.parse(text);
}

function leaseFiles(dir: string): Record<string, string> {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return {};
  }
  return Object.fromEntries(names.filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name)).map((name) => [name, readFileSync(join(dir, name), "utf8")]));
}

describe("macvlan + host-local against the reference plugins", () => {
  const newWorld = worldPerTest();

  const scenarios: [string, (w: MacvlanWorld) => Record<string, unknown>, string?][] = [
    ["bridge mode (the default), spec 1.0.0", (w) => w.config()],
    ["private mode with an MTU below the master's and DNS, spec 0.4.0", (w) => w.config({ cniVersion: "0.4.0", mode: "private", mtu: 1400, dns: { nameservers: ["10.0.0.53"], search: ["example.org"] } })],
    ["vepa mode with a configured MAC and IPAM routes, spec 0.3.1", (w) => w.config({ cniVersion: "0.3.1", mode: "vepa", mac: "02:aa:bb:cc:dd:01", ipam: { type: "host-local", subnet: w.subnet.v4, routes: [{ dst: "0.0.0.0/0" }] } })],
    ["a MAC from CNI_ARGS, spec 0.2.0", (w) => w.config({ cniVersion: "0.2.0", mac: "02:aa:bb:cc:dd:02" }), "IgnoreUnknown=1;MAC=02:aa:bb:cc:dd:02"],
    ["layer 2 only, no IPAM", (w) => ({ ...w.config(), ipam: undefined })],
  ];

  it.each(scenarios)("matches the reference: %s", (_, makeConfig, args) => {
    const world = newWorld();
    const config = JSON.parse(JSON.stringify(makeConfig(world))) as Record<string, unknown>;
    const reference = observe("reference", world, config, args);
    const ours = observe("ours", world, config, args);
    if (process.env.SHOW_OBSERVATIONS) console.log(JSON.stringify(reference, null, 1));
    expect(ours).toEqual(reference);
    expect(ours.afterOtherDel).toEqual({ link: false, leases: [] });
  });

  it("both refuse a missing master and leave nothing; ours with code 7 naming it where the reference answers 999", () => {
    const world = newWorld();
    const outcomes = (Object.keys(SUITES) as Suite[]).map((suite) => {
      const netns = world.container();
      const config = { ...world.config({ master: "mvnosuch0" }), ipam: { type: "host-local", subnet: world.subnet.v4, dataDir: join(world.dir, suite) } };
      const outcome = world.call(netns, "ADD", config, { plugin: join(SUITES[suite], "macvlan"), path: SUITES[suite] });
      expect(world.link(netns)).toBeUndefined();
      expect(leaseFiles(join(world.dir, suite, world.network))).toEqual({});
      return outcome.json;
    });
    // The reference's is a plain Go error: 999 "Link not found", naming neither key nor value
    // (the spec's code for a bad configuration is 7).
    expect(outcomes[0]).toMatchObject({ code: 999 });
    expect(outcomes[1]).toMatchObject({ code: 7, msg: expect.stringContaining('master="mvnosuch0"') });
  });
});
