import { describe, expect, it } from "vitest";
import { sysctlPath } from "../../../plugins/tuning/sysctl-key.ts";

const refused = (key: string) => expect.objectContaining({ code: 7, message: expect.stringContaining(`sysctl key ${JSON.stringify(key)}`) });

describe("sysctl keys", () => {
  it("take dots or slashes between components, as the reference does", () => {
    expect(sysctlPath("net.core.somaxconn", "eth0")).toBe("net/core/somaxconn");
    expect(sysctlPath("net/ipv4/conf/all/forwarding", "eth0")).toBe("net/ipv4/conf/all/forwarding");
    expect(sysctlPath("net.ipv4/conf.default/rp_filter", "eth0")).toBe("net/ipv4/conf/default/rp_filter");
  });

  it("name the interface through IFNAME, which may hold dots", () => {
    expect(sysctlPath("net.ipv4.conf.IFNAME.arp_notify", "eth0")).toBe("net/ipv4/conf/eth0/arp_notify");
    expect(sysctlPath("net.ipv4.conf.IFNAME.arp_notify", "eth0.100")).toBe("net/ipv4/conf/eth0.100/arp_notify");
    expect(sysctlPath("net/ipv6/conf/IFNAME/accept_ra", "vlan.2.3")).toBe("net/ipv6/conf/vlan.2.3/accept_ra");
  });

  it("replace only the first IFNAME, as the reference does", () => {
    expect(sysctlPath("net.ipv4.conf.IFNAME.IFNAME", "eth0")).toBe("net/ipv4/conf/eth0/IFNAME");
  });

  it("take a literal interface name as it is spelled", () => {
    expect(sysctlPath("net.ipv4.conf.eth0.arp_filter", "eth1")).toBe("net/ipv4/conf/eth0/arp_filter");
  });

  it.each(["net/../kernel/x", "net.ipv4/../../x", "net.ipv4.conf.eth0..x", "net/ipv4/../core/somaxconn", "/net/core/somaxconn", "net.core.somaxconn.", "net//core/somaxconn", ""])(
    "refuse %j: every component must be a plain name (code 7)",
    (key) => {
      expect(() => sysctlPath(key, "eth0")).toThrow(refused(key));
    },
  );

  it.each(["kernel.hostname", "kernel/core_pattern", "vm.swappiness", "net", "fs.file-max"])("refuse %j outside net.* (code 7)", (key) => {
    expect(() => sysctlPath(key, "eth0")).toThrow(refused(key));
    expect(() => sysctlPath(key, "eth0")).toThrow(/only keys under net\.\*/);
  });

  it("refuse an IFNAME that would turn into a path component of its own", () => {
    expect(() => sysctlPath("net.ipv4.conf.IFNAME.x", "..")).toThrow(refused("net.ipv4.conf.IFNAME.x"));
  });
});
