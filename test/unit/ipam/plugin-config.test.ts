import { describe, expect, it } from "vitest";
import { CniArgs } from "../../../lib/skel/index.ts";
import { parseHostLocalConfig } from "../../../plugins/host-local/config.ts";

const base = { cniVersion: "1.0.0", name: "net1", type: "bridge" };
const parse = (raw: Record<string, unknown>) => parseHostLocalConfig(raw, { command: "ADD", attachment: { args: CniArgs.parse(""), ifname: "eth0" } });

describe("host-local's stdin configuration", () => {
  it("reads keys in any letter case, as the reference's Go JSON decoder does", () => {
    const config = parse({
      ...base,
      IPAM: { Type: "host-local", DataDir: "/run/x", RANGES: [[{ Subnet: "10.1.0.0/24", rangestart: "10.1.0.9" }]], Routes: [{ DST: "0.0.0.0/0" }] },
      RuntimeConfig: { IPS: ["10.1.0.20"] },
      Args: { CNI: { Ips: ["10.1.0.21"] } },
    });
    expect(config.ipamConfig.dataDir).toBe("/run/x");
    expect(config.ipamConfig.rangeSets[0]!.toString()).toBe("10.1.0.9-10.1.0.254");
    expect(config.ipamConfig.routes).toEqual([{ dst: "0.0.0.0/0" }]);
    expect(config.requestedIPs.map(({ field, address }) => `${field} ${address}`)).toEqual(["args.cni.ips[0] 10.1.0.21", "runtimeConfig.ips[0] 10.1.0.20"]);
  });

  it("lets the later of two spellings of a key win, as in Go", () => {
    const config = (ipam: object) => parse({ ...base, ipam: { type: "host-local", subnet: "10.1.0.0/24", ...ipam } }).ipamConfig.dataDir;
    expect(config({ DATADIR: "/first", dataDir: "/second" })).toBe("/second");
    expect(config({ dataDir: "/first", DATADIR: "/second" })).toBe("/second");
  });

  it("takes the ipRanges capability", () => {
    const config = parse({ ...base, ipam: { type: "host-local", subnet: "10.1.0.0/24" }, runtimeConfig: { ipRanges: [[{ subnet: "10.2.0.0/24" }]] } });
    expect(config.ipamConfig.rangeSets.map(String)).toEqual(["10.2.0.1-10.2.0.254", "10.1.0.1-10.1.0.254"]);
  });

  it("names field and value of a value of the wrong type (code 7)", () => {
    expect(() => parse({ ...base, ipam: { type: "host-local", ranges: [[{ subnet: "10.1.0.0/24", gateway: 5 }]] } })).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining("invalid config: ipam.ranges[0][0].gateway=5") }),
    );
    expect(() => parse({ ...base, ipam: { type: "host-local", subnet: "10.1.0.0/24" }, runtimeConfig: { ips: [null] } })).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining("runtimeConfig.ips[0]=null") }),
    );
  });

  it("reads an empty cniVersion as 0.1.0, which allows one range set per family (code 1)", () => {
    const ipam = { type: "host-local", ranges: [[{ subnet: "10.1.0.0/24" }], [{ subnet: "10.2.0.0/24" }]] };
    expect(() => parse({ ...base, cniVersion: "", ipam })).toThrow(expect.objectContaining({ code: 1, message: expect.stringContaining("CNI version 0.1.0") }));
  });

  it("requires the ipam section", () => {
    expect(() => parse(base)).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining("ipam=(missing)") }));
  });

});
