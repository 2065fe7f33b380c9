import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";

const VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] as const;

let netns: TestNetns;
beforeEach(() => {
  netns = createNetns("dh");
});
afterEach(() => netns.remove());

function staticConfig(ipam: object, extra: object = {}, cniVersion = "1.0.0") {
  return { cniVersion, name: "static-test", type: "static", ipam: { type: "static", ...ipam }, ...extra };
}

function call(command: PluginCall["command"], config: object, extra: Partial<PluginCall> = {}): PluginCall {
  return { command, containerId: "dh-static", netns: netns.path, ifname: "eth0", config, ...extra };
}

describe("static ADD", () => {
  it("returns the configured addresses, gateways, routes and dns in every spec version", () => {
    const ipam = {
      addresses: [{ address: "10.77.1.5/24", gateway: "10.77.1.1" }, { address: "FD77::0005/64", gateway: "fd77::1" }],
      routes: [{ dst: "0.0.0.0/0" }, { dst: "192.168.7.0/24", gw: "10.77.1.254" }],
      dns: { nameservers: ["10.77.1.53"], domain: "example.test", search: ["example.test"], options: ["ndots:2"] },
    };
    const dns = ipam.dns;
    for (const version of VERSIONS) {
      const legacy = version === "0.1.0" || version === "0.2.0";
      const result = mustCall("static", call("ADD", staticConfig(ipam, {}, version))).json;
      if (legacy) {
        expect(result).toEqual({
          cniVersion: version,
          ip4: { ip: "10.77.1.5/24", gateway: "10.77.1.1", routes: [{ dst: "0.0.0.0/0" }, { dst: "192.168.7.0/24", gw: "10.77.1.254" }] },
          ip6: { ip: "fd77::5/64", gateway: "fd77::1" },
          dns,
        });
        continue;
      }
      const withVersion = version === "0.3.0" || version === "0.3.1" || version === "0.4.0";
      expect(result).toEqual({
        cniVersion: version,
        ips: [
          { ...(withVersion ? { version: "4" } : {}), address: "10.77.1.5/24", gateway: "10.77.1.1" },
          { ...(withVersion ? { version: "6" } : {}), address: "fd77::5/64", gateway: "fd77::1" },
        ],
        routes: [{ dst: "0.0.0.0/0" }, { dst: "192.168.7.0/24", gw: "10.77.1.254" }],
        dns,
      });
    }
  });

  it("adds CNI_ARGS IP addresses after the configured ones, with CNI_ARGS GATEWAY for those whose subnet holds it", () => {
    const config = staticConfig({ addresses: [{ address: "10.77.2.5/24" }] });
    const result = mustCall("static", call("ADD", config, { args: "IP=10.77.3.5/24, fd77:3::5/64;GATEWAY=10.77.3.1,fd77:3::1,10.77.2.1" })).json;
    expect(result.ips).toEqual([
      { address: "10.77.2.5/24" },
      { address: "10.77.3.5/24", gateway: "10.77.3.1" },
      { address: "fd77:3::5/64", gateway: "fd77:3::1" },
    ]);
  });

  it("lets args.cni.ips replace configured and CNI_ARGS addresses, and the ips capability replace all", () => {
    const base = { addresses: [{ address: "10.77.2.5/24", gateway: "10.77.2.1" }] };
    const viaArgs = mustCall("static", call("ADD", staticConfig(base, { args: { cni: { ips: ["10.77.4.5/24"] } } }), { args: "IP=10.77.3.5/24" })).json;
    expect(viaArgs.ips).toEqual([{ address: "10.77.4.5/24" }]);
    const viaCapability = mustCall(
      "static",
      call("ADD", staticConfig(base, { args: { cni: { ips: ["10.77.4.5/24"] } }, runtimeConfig: { ips: ["10.77.5.5/24", "fd77:5::5/64"] } }), { args: "IP=10.77.3.5/24" }),
    ).json;
    expect(viaCapability.ips).toEqual([{ address: "10.77.5.5/24" }, { address: "fd77:5::5/64" }]);
    const emptyListsIgnored = mustCall("static", call("ADD", staticConfig(base, { args: { cni: { ips: [] } }, runtimeConfig: { ips: [] } }))).json;
    expect(emptyListsIgnored.ips).toEqual([{ address: "10.77.2.5/24", gateway: "10.77.2.1" }]);
  });

  it("matches keys ignoring case, as the reference's Go decoder does", () => {
    const config = { cniVersion: "1.0.0", name: "n", type: "static", IPAM: { Type: "static", Addresses: [{ ADDRESS: "10.77.6.5/24", GateWay: "10.77.6.1" }] } };
    expect(mustCall("static", call("ADD", config)).json.ips).toEqual([{ address: "10.77.6.5/24", gateway: "10.77.6.1" }]);
  });
});

describe("static refuses what it cannot assign", () => {
  it("answers code 7 naming every source of addresses when there is no address", () => {
    const outcome = callPlugin("static", call("ADD", staticConfig({ routes: [{ dst: "0.0.0.0/0" }] })));
    expect(outcome.status).toBe(1);
    expect(outcome.json.code).toBe(7);
    for (const source of ["ipam.addresses", "CNI_ARGS IP", "args.cni.ips", "runtimeConfig.ips"]) expect(outcome.json.msg).toContain(source);
  });

  const refusals: [string, object, string, number, string][] = [
    ["an address without a prefix length", staticConfig({ addresses: [{ address: "10.77.1.5" }] }), "", 7, "ipam.addresses[0].address"],
    ["a gateway that is no address", staticConfig({ addresses: [{ address: "10.77.1.5/24", gateway: "gw" }] }), "", 7, "ipam.addresses[0].gateway"],
    ["a gateway of the other family", staticConfig({ addresses: [{ address: "10.77.1.5/24", gateway: "fd77::1" }] }), "", 7, "IPv6 gateway"],
    ["a route without a valid destination", staticConfig({ addresses: [{ address: "10.77.1.5/24" }], routes: [{ dst: "default" }] }), "", 7, "ipam.routes[0].dst"],
    ["an ips capability entry that is no CIDR", staticConfig({}, { runtimeConfig: { ips: ["10.77.1.5"] } }), "", 7, "runtimeConfig.ips[0]"],
    ["an args.cni.ips entry that is no CIDR", staticConfig({}, { args: { cni: { ips: ["x"] } } }), "", 7, "args.cni.ips[0]"],
    ["a CNI_ARGS IP that is no CIDR", staticConfig({}), "IP=10.77.1.5", 4, "CNI_ARGS: IP="],
    ["a CNI_ARGS GATEWAY that is no address", staticConfig({}), "IP=10.77.1.5/24;GATEWAY=nope", 4, "GATEWAY="],
    ["an unknown CNI_ARGS key without IgnoreUnknown", staticConfig({ addresses: [{ address: "10.77.1.5/24" }] }), "FOO=1", 4, "FOO"],
    ["two IPv4 addresses in a 0.2.0 configuration", staticConfig({ addresses: [{ address: "10.77.1.5/24" }, { address: "10.77.2.5/24" }] }, {}, "0.2.0"), "", 1, "0.3.0"],
    ["a configuration without ipam", { cniVersion: "1.0.0", name: "n", type: "static" }, "", 7, "ipam"],
  ];
  for (const [what, config, args, code, mention] of refusals) {
    it(`answers code ${code} for ${what}`, () => {
      const outcome = callPlugin("static", call("ADD", config, { args }));
      expect(outcome.status).toBe(1);
      expect(outcome.json.code, outcome.stdout).toBe(code);
      expect(outcome.json.msg).toContain(mention);
    });
  }

  it("accepts unknown CNI_ARGS keys with IgnoreUnknown", () => {
    const outcome = mustCall("static", call("ADD", staticConfig({}), { args: "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.77.1.5/24" }));
    expect(outcome.json.ips).toEqual([{ address: "10.77.1.5/24" }]);
  });
});

describe("static DEL, CHECK and STATUS", () => {
  it("DEL succeeds for any configuration, as it has nothing to release", () => {
    expect(callPlugin("static", call("DEL", { cniVersion: "1.0.0", name: "n", type: "static" })).status).toBe(0);
    expect(callPlugin("static", call("DEL", staticConfig({ addresses: [{ address: "nonsense" }] }), { netns: undefined })).status).toBe(0);
  });

  it("CHECK passes for the ADD result and fails with 104 when an address or its gateway is missing", () => {
    const config = staticConfig({ addresses: [{ address: "10.77.1.5/24", gateway: "10.77.1.1" }, { address: "fd77::5/64" }] });
    const result = mustCall("static", call("ADD", config)).json;
    mustCall("static", call("CHECK", { ...config, prevResult: result }));

    const withoutV6 = { ...result, ips: result.ips.slice(0, 1) };
    const missing = callPlugin("static", call("CHECK", { ...config, prevResult: withoutV6 }));
    expect(missing.json).toMatchObject({ code: 104 });
    expect(missing.json.msg).toContain("fd77::5/64");

    const otherGateway = { ...result, ips: [{ address: "10.77.1.5/24", gateway: "10.77.1.254" }, result.ips[1]] };
    const gateway = callPlugin("static", call("CHECK", { ...config, prevResult: otherGateway }));
    expect(gateway.json).toMatchObject({ code: 104 });
    expect(gateway.json.msg).toContain("10.77.1.1");

    const noPrevResult = callPlugin("static", call("CHECK", config));
    expect(noPrevResult.json).toMatchObject({ code: 7 });
    expect(noPrevResult.json.msg).toContain("prevResult");
  });

  it("CHECK also checks addresses that came from CNI_ARGS", () => {
    const config = staticConfig({});
    const result = mustCall("static", call("ADD", config, { args: "IP=10.77.8.5/24" })).json;
    mustCall("static", call("CHECK", { ...config, prevResult: result }, { args: "IP=10.77.8.5/24" }));
    expect(callPlugin("static", call("CHECK", { ...config, prevResult: result }, { args: "IP=10.77.8.6/24" })).json).toMatchObject({ code: 104 });
  });

  it("STATUS is ready for a valid configuration and answers code 7 for an invalid address", () => {
    const status = (ipam: object) => callPlugin("static", { command: "STATUS", config: staticConfig(ipam, {}, "1.1.0") });
    expect(status({ addresses: [{ address: "10.77.1.5/24" }] }).status).toBe(0);
    expect(status({}).status).toBe(0);
    expect(status({ addresses: [{ address: "10.77.1.5" }] }).json).toMatchObject({ code: 7 });
  });
});

describe("bridge with static IPAM", () => {
  let network: TestNetwork;
  const containers: TestNetns[] = [];
  beforeEach(() => {
    network = createTestNetwork();
  });
  afterEach(() => {
    for (const container of containers.splice(0)) container.remove();
    network.cleanup();
  });

  it("puts the fixed addresses and routes on two dual-stack containers that ping each other", () => {
    const { v4Prefix, v6Prefix } = network.subnets;
    const attach = (host: number) => {
      const container = createNetns("dh");
      containers.push(container);
      const config = network.bridgeConfig({
        ipam: {
          type: "static",
          addresses: [
            { address: `${v4Prefix}.${host}/24`, gateway: `${v4Prefix}.1` },
            { address: `${v6Prefix}::${host}/64`, gateway: `${v6Prefix}::1` },
          ],
          routes: [{ dst: "198.51.100.0/24" }],
        },
      });
      const request = { command: "ADD" as const, containerId: uniqueName("dh"), netns: container.path, ifname: "eth0", config };
      const result = mustCall("bridge", request).json;
      mustCall("bridge", { ...request, command: "CHECK", config: { ...config, prevResult: result } });
      return { container, request };
    };
    const a = attach(10);
    const b = attach(11);
    const addresses = ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>(["addr", "show", "dev", "eth0"], a.container.name)[0]!.addr_info;
    expect(addresses.map((info) => `${info.local}/${info.prefixlen}`)).toEqual(expect.arrayContaining([`${v4Prefix}.10/24`, `${v6Prefix}::10/64`]));
    expect(ipJson<{ dst: string; gateway?: string }[]>(["-4", "route"], a.container.name)).toContainEqual(
      expect.objectContaining({ dst: "198.51.100.0/24", gateway: `${v4Prefix}.1` }),
    );
    a.container.exec(["ping", "-c", "1", "-W", "2", `${v4Prefix}.11`]);
    b.container.exec(["ping", "-6", "-c", "1", "-W", "2", `${v6Prefix}::10`]);
    for (const { request } of [a, b]) mustCall("bridge", { ...request, command: "DEL" });
  });
});
