/**
 * Our host-local against the reference (/usr/lib/cni/host-local, containernetworking-plugins
 * 1.1.1): same configuration in, same result and same files out, and each can take over the
 * other's data directory.
 *
 * What is normalised, and why:
 * - Each implementation gets its own data directory (so both start from the same state); the
 *   path is in the configuration only, never in a result or a file.
 * - Results are compared as parsed JSON: the reference indents its output, we do not.
 * - Our owner index (a dot-directory) exists only on our side by design; it is left out of the
 *   file comparison. File modes are not compared: 1.1.1 writes leases 0644, we write 0600 as
 *   upstream does since v1.2.0; contents and names are compared exactly.
 * - Results are compared at CNI 1.0.0 and older: the reference does not speak 1.1.0.
 * - Error codes are not compared: the reference answers 999 for nearly every failure, where we
 *   give the spec's codes; that both fail (and leave the same files) is compared.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostLocalNetwork, OURS, REFERENCE } from "../integration/host-local/harness.ts";

let net: HostLocalNetwork;
beforeEach(() => {
  net = new HostLocalNetwork();
});
afterEach(() => net.remove());

type CallOptions = { containerId?: string; ifname?: string; args?: string };
const implementations = { reference: REFERENCE, ours: OURS } as const;
type Implementation = keyof typeof implementations;

/** A data directory per implementation, inside the network's temporary directory. */
const dataDirOf = (who: Implementation | string) => join(net.dataDir, who);

/** The configuration `ipam` (a function of the data dir) gives, for one implementation's dir. */
type ConfigFor = (dataDir: string) => object;

function configFor(options: { cniVersion?: string; ipam?: object; top?: object } = {}): ConfigFor {
  return (dataDir) => net.config({ ...options, ipam: { ...options.ipam, dataDir } });
}

function run(who: Implementation, dir: string, command: "ADD" | "DEL" | "CHECK", config: ConfigFor, options: CallOptions = {}) {
  return net.call(command, config(dataDirOf(dir)), { ...options, binary: implementations[who] });
}

/** Runs the same command with both implementations, each on its own data directory. */
function both(command: "ADD" | "DEL" | "CHECK", config: ConfigFor, options: CallOptions = {}) {
  const reference = run("reference", "reference", command, config, options);
  const ours = run("ours", "ours", command, config, options);
  return { reference, ours };
}

function expectSameOutcome(outcome: ReturnType<typeof both>): void {
  expect(outcome.ours.status, `ours: ${outcome.ours.stdout}`).toBe(outcome.reference.status);
  if (outcome.reference.status === 0) expect(outcome.ours.json).toEqual(outcome.reference.json);
  expect(net.files(dataDirOf("ours"))).toEqual(net.files(dataDirOf("reference")));
}

describe("the same configuration gives the same result and the same files", () => {
  const cases: [string, () => { config: ConfigFor; options?: CallOptions }][] = [
    [
      "dual stack with routes and resolvConf",
      () => ({
        config: configFor({
          ipam: {
            routes: [{ dst: "0.0.0.0/0" }, { dst: "10.1.2.3/8", gw: `${net.subnets.v4Prefix}.1` }, { dst: "FD00::/8", gw: `${net.subnets.v6Prefix}::1` }],
            resolvConf: "/etc/resolv.conf",
          },
        }),
      }),
    ],
    [
      "the legacy single range before ipam.ranges",
      () => ({
        config: configFor({
          ipam: {
            subnet: "10.250.7.0/24",
            rangeStart: "10.250.7.100",
            rangeEnd: "10.250.7.110",
            gateway: "10.250.7.254",
          },
        }),
      }),
    ],
    [
      "a range set of two ranges with a gateway in the middle",
      () => ({
        config: configFor({
          ipam: { ranges: [[{ subnet: "10.250.8.0/29", gateway: "10.250.8.2" }, { subnet: "10.250.9.0/24", rangeStart: "10.250.9.200" }]] },
        }),
      }),
    ],
    [
      "the ipRanges capability",
      () => ({ config: configFor({ top: { runtimeConfig: { ipRanges: [[{ subnet: "10.250.10.0/24", rangeStart: "10.250.10.40" }]] } } }) }),
    ],
    ["an address requested in CNI_ARGS", () => ({ config: configFor(), options: { args: `IgnoreUnknown=1;K8S_POD_NAME=x;IP=${net.subnets.v4Prefix}.33` } })],
    ["an address requested in args.cni.ips", () => ({ config: configFor({ top: { args: { cni: { ips: [`${net.subnets.v6Prefix}::33`] } } } }) })],
    [
      "addresses of the ips capability, with prefix lengths",
      () => ({ config: configFor({ top: { runtimeConfig: { ips: [`${net.subnets.v4Prefix}.44/24`, `${net.subnets.v6Prefix}::44/64`] } } }) }),
    ],
    [
      "keys in any letter case, as Go's JSON decoder reads them",
      () => ({
        config: (dataDir) => ({
          cniVersion: "1.0.0",
          name: net.name,
          type: "host-local",
          IPAM: { Type: "host-local", DATADIR: dataDir, Ranges: [[{ SUBNET: "10.250.11.0/24", rangestart: "10.250.11.9", GateWay: "10.250.11.254" }]] },
        }),
      }),
    ],
    [
      "non-canonical address text, null and empty optional keys",
      () => ({
        config: configFor({
          ipam: {
            ranges: [
              [{ subnet: "10.250.12.0/24", rangeStart: "::ffff:10.250.12.5", gateway: "", rangeEnd: null }],
              [{ subnet: "FD00:00AB:0000::/64", gateway: "fd00:ab:0:0:0:0:0:fe" }],
            ],
            routes: [{ dst: "FD00:0::/8", gw: "FD00:AB::1" }],
            resolvConf: "",
          },
        }),
      }),
    ],
    [
      "a subnet whose range ends on the broadcast address and a gateway outside it",
      () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.250.13.0/30", rangeStart: "10.250.13.3", rangeEnd: "10.250.13.3", gateway: "10.250.14.1" }]] } }) }),
    ],
  ];

  it.each(cases)("%s", (_, setup) => {
    const { config, options } = setup();
    expectSameOutcome(both("ADD", config, options));
    expectSameOutcome(both("CHECK", config, options));
    expectSameOutcome(both("DEL", config, options));
  });

  it.each(["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"])("in the result shape of CNI %s", (cniVersion) => {
    const config = configFor({ cniVersion, ipam: { routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0" }], resolvConf: "/etc/resolv.conf" } });
    expectSameOutcome(both("ADD", config));
  });
});

describe("the same configurations are refused", () => {
  const refused: [string, () => { config: ConfigFor; options?: CallOptions }][] = [
    ["a prefix longer than the family", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.0/33" }]] } }) })],
    ["a subnet with host bits", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.1/24" }]] } }) })],
    ["a /31", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.0/31" }]] } }) })],
    ["a rangeStart outside the subnet", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.0/24", rangeStart: "10.0.1.1" }]] } }) })],
    ["a range ending before it starts", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.0/24", rangeStart: "10.0.0.9", rangeEnd: "10.0.0.8" }]] } }) })],
    ["a range set mixing families", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.0/24" }, { subnet: "fd00::/64" }]] } }) })],
    ["overlapping ranges in a set", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.0/24" }, { subnet: "10.0.0.128/25" }]] } }) })],
    ["overlapping range sets", () => ({ config: configFor({ ipam: { ranges: [[{ subnet: "10.0.0.0/24" }], [{ subnet: "10.0.0.0/25" }]] } }) })],
    ["an empty range set", () => ({ config: configFor({ ipam: { ranges: [[]] } }) })],
    ["no ranges", () => ({ config: configFor({ ipam: { ranges: [] } }) })],
    ["two IPv4 range sets in CNI 0.2.0", () => ({ config: configFor({ cniVersion: "0.2.0", ipam: { ranges: [[{ subnet: "10.0.0.0/24" }], [{ subnet: "10.0.1.0/24" }]] } }) })],
    ["a route without a prefix length", () => ({ config: configFor({ ipam: { routes: [{ dst: "10.0.0.1" }] } }) })],
    ["a requested gateway", () => ({ config: configFor(), options: { args: `IP=${net.subnets.v4Prefix}.1` } })],
    ["a requested address outside every range", () => ({ config: configFor(), options: { args: "IP=192.0.2.1" } })],
    ["a CNI_ARGS IP that is not an address", () => ({ config: configFor(), options: { args: "IP=nope" } })],
    ["an unknown CNI_ARGS key", () => ({ config: configFor(), options: { args: "NOPE=1" } })],
  ];

  it.each(refused)("%s", (_, setup) => {
    const { config, options } = setup();
    const outcome = both("ADD", config, options);
    expect(outcome.reference.status).toBe(1);
    expectSameOutcome(outcome);
  });

  // The reference keeps requested addresses in a Go map and walks it in random order, so which of
  // the two it reserved before refusing the second (and wrote to last_reserved_ip.0) varies run to
  // run. Ours takes them in the order given; its choice must be one the reference can make.
  it("two requested addresses for one range set", () => {
    const requested = [`${net.subnets.v4Prefix}.5`, `${net.subnets.v4Prefix}.6`];
    const outcome = both("ADD", configFor({ top: { runtimeConfig: { ips: requested } } }));
    expect(outcome.reference.status).toBe(1);
    expect(outcome.ours.status).toBe(1);
    const lastReserved = (dir: string) => net.files(dataDirOf(dir))["last_reserved_ip.0"];
    expect(requested).toContain(lastReserved("reference"));
    expect(requested).toContain(lastReserved("ours"));
    const { "last_reserved_ip.0": _ours, ...ourRest } = net.files(dataDirOf("ours"));
    const { "last_reserved_ip.0": _theirs, ...theirRest } = net.files(dataDirOf("reference"));
    expect(ourRest).toEqual(theirRest);
  });

  it("a requested address that is already reserved", () => {
    const config = configFor();
    expectSameOutcome(both("ADD", config, { containerId: "first", args: `IP=${net.subnets.v4Prefix}.9` }));
    const outcome = both("ADD", config, { containerId: "second", args: `IP=${net.subnets.v4Prefix}.9` });
    expect(outcome.reference.status).toBe(1);
    expectSameOutcome(outcome);
  });

  it("a second ADD of the same attachment", () => {
    const config = configFor();
    expectSameOutcome(both("ADD", config));
    const outcome = both("ADD", config);
    expect(outcome.reference.status).toBe(1);
    expectSameOutcome(outcome);
  });
});

describe("one data directory, both implementations", () => {
  const shared = () => configFor();
  const on = (who: Implementation, command: "ADD" | "DEL" | "CHECK", containerId = "c1") =>
    run(who, "shared", command, shared(), { containerId });

  it("the reference releases what ours reserved", () => {
    expect(on("ours", "ADD").status).toBe(0);
    expect(on("reference", "CHECK").status).toBe(0);
    expect(on("reference", "DEL").status).toBe(0);
    expect(net.leases(dataDirOf("shared"))).toEqual({});
    expect(on("ours", "CHECK").json.code).toBe(104);
  });

  it("ours releases what the reference reserved", () => {
    expect(on("reference", "ADD").status).toBe(0);
    expect(on("ours", "CHECK").status).toBe(0);
    expect(on("ours", "DEL").status).toBe(0);
    expect(net.leases(dataDirOf("shared"))).toEqual({});
    expect(on("reference", "CHECK").status).toBe(1);
  });

  it("both release leases of the oldest format, which hold only the container ID", () => {
    for (const who of ["reference", "ours"] as const) {
      const dir = `${who}-legacy`;
      const config = configFor();
      expect(run(who, dir, "ADD", config, { containerId: "old" }).status).toBe(0);
      // Rewrite the leases as a plugin from before 0.7 wrote them.
      const leases = net.leases(dataDirOf(dir));
      for (const address of Object.keys(leases)) {
        writeFileSync(join(dataDirOf(dir), net.name, address), "old");
      }
      expect(run(who, dir, "CHECK", config, { containerId: "old" }).status).toBe(0);
      expect(run(who, dir, "DEL", config, { containerId: "old" }).status).toBe(0);
      expect(net.leases(dataDirOf(dir))).toEqual({});
    }
  });

  it("allocations interleaved between both continue one round-robin sequence", () => {
    // A /28 hands out 13 IPv4 addresses, so the script wraps around, and a two-range set of IPv6
    // addresses moves between ranges.
    const { v4Prefix, v6Prefix } = net.subnets;
    const config = configFor({
      ipam: {
        ranges: [
          [{ subnet: `${v4Prefix}.0/28` }],
          [
            { subnet: `${v6Prefix}::/64`, rangeStart: `${v6Prefix}::10`, rangeEnd: `${v6Prefix}::14` },
            { subnet: `${v6Prefix}::/64`, rangeStart: `${v6Prefix}::20`, rangeEnd: `${v6Prefix}::22` },
          ],
        ],
      },
    });
    // Refused requests are part of it: the reference allocates before it notices an address no
    // range set takes, so such a failure still moves last_reserved_ip (and must for us too).
    const script: ["ADD" | "DEL", string, string?][] = [
      ["ADD", "a"], ["ADD", "b"], ["ADD", "c", `IP=${v4Prefix}.9`], ["ADD", "d"], ["DEL", "b"],
      ["ADD", "x", "IP=192.0.2.1"], ["ADD", "e"], ["ADD", "f"], ["DEL", "a"], ["ADD", "g"],
      ["ADD", "y", `IP=${v4Prefix}.1`], ["ADD", "z", `IP=${v6Prefix}::21`], ["ADD", "h"], ["DEL", "d"], ["ADD", "i"], ["ADD", "j"],
      ["ADD", "k"], ["DEL", "c"], ["ADD", "l"], ["ADD", "m"], ["ADD", "n"], ["ADD", "o"],
    ];
    const transcripts: Record<string, unknown[]> = {};
    const plans: Record<string, (step: number) => Implementation> = {
      reference: () => "reference",
      ours: () => "ours",
      alternating: (step) => (step % 2 === 0 ? "reference" : "ours"),
      "in turns of three": (step) => (Math.floor(step / 3) % 2 === 0 ? "ours" : "reference"),
    };
    for (const [plan, pick] of Object.entries(plans)) {
      transcripts[plan] = script.map(([command, containerId, args], step) => {
        const outcome = run(pick(step), plan, command, config, { containerId, args });
        // Error codes differ by design (the reference says 999 for all); that it failed is compared.
        return { command, containerId, status: outcome.status, ips: outcome.status === 0 ? outcome.json?.ips : "failed" };
      });
    }
    expect(transcripts.ours).toEqual(transcripts.reference);
    expect(transcripts.alternating).toEqual(transcripts.reference);
    expect(transcripts["in turns of three"]).toEqual(transcripts.reference);
    const referenceFiles = net.files(dataDirOf("reference"));
    for (const plan of ["ours", "alternating", "in turns of three"]) expect(net.files(dataDirOf(plan))).toEqual(referenceFiles);
  });
});

describe("deliberate differences (documented in plugins/host-local/README.md)", () => {
  it("we take several comma-separated addresses in CNI_ARGS IP; the reference takes one", () => {
    const args = `IP=${net.subnets.v4Prefix}.7,${net.subnets.v6Prefix}::7`;
    const outcome = both("ADD", configFor(), { args });
    expect(outcome.reference.status).toBe(1);
    expect(outcome.ours.status).toBe(0);
  });

  it("our CHECK wants an address of every range set; the reference's is content with any", () => {
    const oneSet = configFor({ ipam: { ranges: [[{ subnet: net.subnets.v4 }]] } });
    expectSameOutcome(both("ADD", oneSet));
    const outcome = both("CHECK", configFor());
    expect(outcome.reference.status).toBe(0);
    expect(outcome.ours.json.code).toBe(104);
  });

  it("we refuse a gateway of the other family; the reference returns it", () => {
    const outcome = both("ADD", configFor({ ipam: { ranges: [[{ subnet: net.subnets.v4, gateway: "fd00::1" }]] } }));
    expect(outcome.reference.status).toBe(0);
    expect(outcome.ours.json.code).toBe(7);
  });

  it("we refuse a rangeStart past the default rangeEnd; the reference accepts a range that ends before it starts", () => {
    const outcome = both("DEL", configFor({ ipam: { ranges: [[{ subnet: net.subnets.v4, rangeStart: `${net.subnets.v4Prefix}.255` }]] } }));
    expect(outcome.reference.status).toBe(0);
    expect(outcome.ours.json.code).toBe(7);
  });
});
