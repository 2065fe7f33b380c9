import { describe, expect, it } from "vitest";
import { decodeResult, encodeResult } from "../../../lib/types/convert.ts";
import type { Result } from "../../../lib/types/result.ts";

const dualStack: Result = {
  interfaces: [
    { name: "cni0", mac: "aa:bb:cc:dd:ee:01" },
    { name: "veth1", mac: "aa:bb:cc:dd:ee:02" },
    { name: "eth0", mac: "aa:bb:cc:dd:ee:03", mtu: 1400, sandbox: "/run/netns/x" },
  ],
  ips: [
    { interface: 2, address: "10.1.0.5/24", gateway: "10.1.0.1" },
    { interface: 2, address: "fd00::5/64", gateway: "fd00::1" },
  ],
  routes: [{ dst: "0.0.0.0/0", gw: "10.1.0.1" }, { dst: "::/0" }, { dst: "10.2.0.0/16", mtu: 1300, table: 100 }],
  dns: { nameservers: ["10.1.0.1"] },
};

describe("result conversion", () => {
  it("writes 1.1.0 and 1.0.0 with mtu on interfaces and no ip version", () => {
    for (const version of ["1.0.0", "1.1.0"] as const) {
      const wire = encodeResult(dualStack, version);
      expect(wire.cniVersion).toBe(version);
      expect((wire.interfaces as object[])[2]).toEqual({ name: "eth0", mac: "aa:bb:cc:dd:ee:03", mtu: 1400, sandbox: "/run/netns/x" });
      expect((wire.ips as object[])[0]).toEqual({ interface: 2, address: "10.1.0.5/24", gateway: "10.1.0.1" });
    }
  });

  it("writes 0.3.x and 0.4.0 with ip versions and without interface mtu", () => {
    for (const version of ["0.3.0", "0.3.1", "0.4.0"] as const) {
      const wire = encodeResult(dualStack, version);
      expect((wire.ips as object[])[1]).toEqual({ version: "6", interface: 2, address: "fd00::5/64", gateway: "fd00::1" });
      expect((wire.interfaces as object[])[2]).toEqual({ name: "eth0", mac: "aa:bb:cc:dd:ee:03", sandbox: "/run/netns/x" });
    }
  });

  it("writes 0.2.0 and 0.1.0 in the ip4/ip6 shape with routes split by family", () => {
    for (const version of ["0.1.0", "0.2.0"] as const) {
      expect(encodeResult(dualStack, version)).toEqual({
        cniVersion: version,
        ip4: { ip: "10.1.0.5/24", gateway: "10.1.0.1", routes: [{ dst: "0.0.0.0/0", gw: "10.1.0.1" }, { dst: "10.2.0.0/16" }] },
        ip6: { ip: "fd00::5/64", gateway: "fd00::1", routes: [{ dst: "::/0" }] },
        dns: { nameservers: ["10.1.0.1"] },
      });
    }
  });

  it("refuses to write a 0.2.0 result without any address", () => {
    expect(() => encodeResult({ interfaces: [{ name: "lo" }] }, "0.2.0")).toThrow(/no IP address/);
  });

  it("round-trips every version back to the same canonical addresses and routes", () => {
    for (const version of ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] as const) {
      const back = decodeResult(encodeResult(dualStack, version));
      expect(back.ips).toEqual(dualStack.ips);
      expect(back.routes).toEqual(dualStack.routes);
      expect(back.dns).toEqual(dualStack.dns);
    }
    const legacy = decodeResult(encodeResult(dualStack, "0.2.0"));
    expect(legacy.ips).toEqual([
      { address: "10.1.0.5/24", gateway: "10.1.0.1" },
      { address: "fd00::5/64", gateway: "fd00::1" },
    ]);
    expect(legacy.routes).toHaveLength(3);
  });

  it("rejects a prevResult whose address is not a CIDR, naming the field", () => {
    expect(() => decodeResult({ cniVersion: "1.0.0", ips: [{ address: "10.0.0.1" }] })).toThrow(
      /prevResult\.ips\[0\]\.address="10\.0\.0\.1"/,
    );
  });

  it.each([
    ["a prefix longer than the family has", { ips: [{ address: "10.1.2.3/33" }] }, "prevResult.ips[0].address"],
    ["an octet above 255", { ips: [{ address: "300.1.2.3/24" }] }, "prevResult.ips[0].address"],
    ["a gateway with a zone", { ips: [{ address: "fd00::3/64", gateway: "fe80::1%eth0" }] }, "prevResult.ips[0].gateway"],
    ["a route to no network", { routes: [{ dst: "1.2.3/8" }] }, "prevResult.routes[0].dst"],
  ])("refuses (code 7) an address Go's parser would not read: %s", (_what, result, field) => {
    expect(() => decodeResult({ cniVersion: "1.0.0", ...result })).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(`invalid config: ${field}=`) }));
  });
});
