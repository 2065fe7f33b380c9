import { describe, expect, it } from "vitest";
import { parsePortMapInput, resolvePortMapConfig } from "../../../plugins/portmap/config.ts";

const base = { cniVersion: "1.0.0", name: "net1", type: "portmap" };
const mapping = { hostPort: 8080, containerPort: 80, protocol: "tcp" };

function resolve(extra: Record<string, unknown>) {
  return resolvePortMapConfig(parsePortMapInput({ ...base, ...extra }));
}

function withMapping(entry: Record<string, unknown>) {
  return { runtimeConfig: { portMappings: [entry] } };
}

describe("portmap configuration", () => {
  it("applies the reference's defaults", () => {
    expect(resolve(withMapping(mapping))).toEqual({
      network: "net1",
      mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
      settings: { snat: true, masqAll: false, markMasqBit: 13, externalSetMarkChain: undefined, conditionsV4: [], conditionsV6: [] },
      backend: undefined,
    });
  });

  it("has no mappings when the runtime passed none", () => {
    expect(resolve({}).mappings).toEqual([]);
    expect(resolve({ runtimeConfig: {} }).mappings).toEqual([]);
    expect(resolve({ runtimeConfig: { portMappings: null } }).mappings).toEqual([]);
  });

  it("treats null like an absent key, as the reference's Go pointers do", () => {
    const config = resolve({ snat: null, markMasqBit: null, externalSetMarkChain: null, conditionsV4: null, backend: null });
    expect(config.settings).toMatchObject({ snat: true, markMasqBit: 13, externalSetMarkChain: undefined, conditionsV4: [] });
    expect(config.backend).toBeUndefined();
  });

  it("lower-cases the protocol, defaults it to tcp, and canonicalizes hostIP", () => {
    const config = resolve({
      runtimeConfig: {
        portMappings: [
          { hostPort: 53, containerPort: 53, protocol: "UDP", hostIP: "0.0.0.0" },
          { hostPort: 80, containerPort: 80, hostIP: "FD00:0::0009" },
          { hostPort: 81, containerPort: 81, protocol: "sctp", hostIP: "::ffff:192.0.2.9" },
          { hostPort: 82, containerPort: 82, protocol: "tcp", hostIP: "" },
        ],
      },
    });
    expect(config.mappings).toEqual([
      { hostPort: 53, containerPort: 53, protocol: "udp", hostIP: "0.0.0.0" },
      { hostPort: 80, containerPort: 80, protocol: "tcp", hostIP: "fd00::9" },
      { hostPort: 81, containerPort: 81, protocol: "sctp", hostIP: "192.0.2.9" },
      { hostPort: 82, containerPort: 82, protocol: "tcp" },
    ]);
  });

  it.each([
    [{ ...mapping, hostPort: 0 }, "runtimeConfig.portMappings[0].hostPort=0"],
    [{ ...mapping, hostPort: 65536 }, "runtimeConfig.portMappings[0].hostPort=65536"],
    [{ ...mapping, containerPort: -1 }, "runtimeConfig.portMappings[0].containerPort=-1"],
    [{ ...mapping, containerPort: 80.5 }, "runtimeConfig.portMappings[0].containerPort=80.5"],
    [{ ...mapping, protocol: "icmp" }, 'runtimeConfig.portMappings[0].protocol="icmp"'],
    [{ ...mapping, hostIP: "10.0.0.300" }, 'runtimeConfig.portMappings[0].hostIP="10.0.0.300"'],
    [{ ...mapping, hostIP: "example.com" }, 'runtimeConfig.portMappings[0].hostIP="example.com"'],
  ])("rejects the mapping %j with code 7 naming %s", (entry, field) => {
    expect(() => resolve(withMapping(entry))).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(field) }));
  });

  it.each([
    [{ markMasqBit: 40 }, "markMasqBit=40: must be from 0 to 31"],
    [{ markMasqBit: -1 }, "markMasqBit=-1: must be from 0 to 31"],
    [{ snat: "yes" }, 'snat="yes"'],
    [{ backend: "ipfw" }, 'backend="ipfw"'],
    [{ conditionsV4: ["-s", "10.0.0.0/8\n-F"] }, "conditionsV4[1]"],
    [{ externalSetMarkChain: "has space" }, 'externalSetMarkChain="has space"'],
  ])("rejects %j with code 7 naming the field", (extra, field) => {
    expect(() => resolve(extra)).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(field) }));
  });

  it("refuses markMasqBit together with externalSetMarkChain, naming both", () => {
    expect(() => resolve({ markMasqBit: 13, externalSetMarkChain: "KUBE-MARK-MASQ" })).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringMatching(/externalSetMarkChain="KUBE-MARK-MASQ".*markMasqBit=13/) }),
    );
  });

  describe("backend", () => {
    it("is the configured one", () => {
      expect(resolve({ backend: "nftables" }).backend).toBe("nftables");
    });

    it("follows options only one backend understands when it is not configured", () => {
      expect(resolve({ externalSetMarkChain: "KUBE-MARK-MASQ" }).backend).toBe("iptables");
      expect(resolve({ conditionsV4: ["!", "-d", "192.0.2.0/24"] }).backend).toBe("iptables");
      expect(resolve({ conditionsV6: ["ip6", "daddr", "!=", "fc00::/7"] }).backend).toBe("nftables");
      expect(resolve({ conditionsV4: [] }).backend).toBeUndefined();
    });

    it("refuses options of the other backend", () => {
      expect(() => resolve({ backend: "nftables", externalSetMarkChain: "KUBE-MARK-MASQ" })).toThrow(
        expect.objectContaining({ code: 7, message: expect.stringContaining("externalSetMarkChain=\"KUBE-MARK-MASQ\": is only understood by the iptables backend, but backend is nftables") }),
      );
      expect(() => resolve({ backend: "iptables", conditionsV4: ["ip", "daddr", "!=", "192.0.2.0/24"] })).toThrow(
        expect.objectContaining({ code: 7, message: expect.stringContaining("conditionsV4") }),
      );
    });

    it("refuses options that point at different backends", () => {
      expect(() => resolve({ conditionsV4: ["-s", "10.0.0.0/8"], conditionsV6: ["ip6", "saddr", "fd00::/8"] })).toThrow(
        expect.objectContaining({ code: 7, message: expect.stringContaining("conditionsV6") }),
      );
    });
  });
});
