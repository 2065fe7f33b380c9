import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addressOf, HostLocalNetwork } from "./harness.ts";

let net: HostLocalNetwork;
beforeEach(() => {
  net = new HostLocalNetwork();
});
afterEach(() => net.remove());

describe("host-local ADD, CHECK and DEL", () => {
  it("allocates one IPv4 and one IPv6 address, checks them, and releases them on DEL, twice", () => {
    const { v4Prefix, v6Prefix } = net.subnets;
    const config = net.config({ ipam: { routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0", gw: `${v6Prefix}::1` }] } });

    const add = net.call("ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(add.json).toEqual({
      cniVersion: "1.0.0",
      ips: [
        { address: `${v4Prefix}.2/24`, gateway: `${v4Prefix}.1` },
        { address: `${v6Prefix}::2/64`, gateway: `${v6Prefix}::1` },
      ],
      routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0", gw: `${v6Prefix}::1` }],
      dns: {},
    });
    expect(net.leases()).toEqual({ [`${v4Prefix}.2`]: "c1\r\neth0", [`${v6Prefix}::2`]: "c1\r\neth0" });

    expect(net.call("CHECK", config).status).toBe(0);

    const del = net.call("DEL", config);
    expect(del.status, del.stdout).toBe(0);
    expect(del.stdout).toBe("");
    expect(net.leases()).toEqual({});

    expect(net.call("DEL", config).status).toBe(0);
    const check = net.call("CHECK", config);
    expect(check.status).toBe(1);
    expect(check.json.code).toBe(104);
    expect(check.json.msg).toContain("holds no address from range set 0");
  });

  it("succeeds on DEL when the network has never been used", () => {
    expect(net.call("DEL", net.config()).status).toBe(0);
  });

  it("fails CHECK naming the range set the attachment lacks (code 104)", () => {
    const { v4Prefix } = net.subnets;
    expect(net.call("ADD", net.config({ ipam: { ranges: [[{ subnet: net.subnets.v4 }]] } })).status).toBe(0);
    const check = net.call("CHECK", net.config());
    expect(check.json).toMatchObject({ code: 104, msg: expect.stringContaining(`holds no address from range set 1 (${net.subnets.v6Prefix}::1-`) });
    expect(check.json.msg).not.toContain(`range set 0 (${v4Prefix}`);
  });

  it("hands out addresses round-robin: a released address is not reused before the others", () => {
    const { v4Prefix } = net.subnets;
    const config = net.config({ ipam: { ranges: [[{ subnet: net.subnets.v4 }]] } });
    const first = net.call("ADD", config, { containerId: "a" }).json.ips[0].address;
    net.call("DEL", config, { containerId: "a" });
    const second = net.call("ADD", config, { containerId: "b" }).json.ips[0].address;
    expect([first, second]).toEqual([`${v4Prefix}.2/24`, `${v4Prefix}.3/24`]);
  });

  it("returns the settings of resolvConf as the result's dns", () => {
    const resolvConf = join(net.dataDir, "resolv.conf");
    writeFileSync(resolvConf, "nameserver 10.0.0.53\nnameserver fd00::53\nsearch a.example b.example\ndomain example\noptions ndots:2\n");
    const add = net.call("ADD", net.config({ ipam: { resolvConf } }));
    expect(add.json.dns).toEqual({ nameservers: ["10.0.0.53", "fd00::53"], domain: "example", search: ["a.example", "b.example"], options: ["ndots:2"] });
  });
});

describe("requested addresses", () => {
  it("gives the address asked for in CNI_ARGS IP", () => {
    const { v4Prefix } = net.subnets;
    const add = net.call("ADD", net.config(), { args: `IP=${v4Prefix}.77` });
    expect(add.json.ips.map((ip: { address: string }) => ip.address)).toEqual([`${v4Prefix}.77/24`, `${net.subnets.v6Prefix}::2/64`]);
  });

  it("gives the addresses asked for in args.cni.ips", () => {
    const { v4Prefix, v6Prefix } = net.subnets;
    const add = net.call("ADD", net.config({ top: { args: { cni: { ips: [`${v6Prefix}::99`, `${v4Prefix}.99`] } } } }));
    expect(add.json.ips.map((ip: { address: string }) => addressOf(ip.address))).toEqual([`${v4Prefix}.99`, `${v6Prefix}::99`]);
  });

  it("gives the addresses of the ips capability, ignoring their prefix lengths", () => {
    const { v4Prefix, v6Prefix } = net.subnets;
    const add = net.call("ADD", net.config({ top: { runtimeConfig: { ips: [`${v4Prefix}.88/16`, `${v6Prefix}::88/64`] } } }));
    expect(add.json.ips.map((ip: { address: string }) => ip.address)).toEqual([`${v4Prefix}.88/24`, `${v6Prefix}::88/64`]);
    expect(Object.keys(net.leases()).sort()).toEqual([`${v4Prefix}.88`, `${v6Prefix}::88`].sort());
  });

  it("refuses an address already reserved (code 105) and leaves no lease of the failed ADD", () => {
    const { v4Prefix } = net.subnets;
    expect(net.call("ADD", net.config(), { containerId: "first", args: `IP=${v4Prefix}.50` }).status).toBe(0);
    const second = net.call("ADD", net.config(), { containerId: "second", args: `IP=${v4Prefix}.50` });
    expect(second.json).toMatchObject({ code: 105, msg: expect.stringContaining(`requested IP ${v4Prefix}.50 of range set 0`) });
    expect(second.json.msg).toContain("reserved by container first interface eth0");
    expect(Object.values(net.leases())).not.toContain("second\r\neth0");
  });

  it("refuses an address outside every range set (code 7)", () => {
    const add = net.call("ADD", net.config({ top: { runtimeConfig: { ips: ["192.0.2.1/24"] } } }));
    expect(add.json).toMatchObject({ code: 7, msg: expect.stringContaining('runtimeConfig.ips[0]="192.0.2.1/24": requested IP 192.0.2.1 is not in any range set') });
    expect(net.leases()).toEqual({});
  });
});

describe("the ipRanges capability", () => {
  it("allocates from the runtime's range sets first, then from the configured ones, as the reference does", () => {
    const { v4Prefix, v6Prefix } = net.subnets;
    const extra = `${v4Prefix.replace(/\.\d+$/, "")}.${(Number(v4Prefix.split(".")[2]) + 1) % 256}`;
    const config = net.config({ top: { runtimeConfig: { ipRanges: [[{ subnet: `${extra}.0/24`, rangeStart: `${extra}.100` }]] } } });
    const add = net.call("ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(add.json.ips).toEqual([
      { address: `${extra}.100/24`, gateway: `${extra}.1` },
      { address: `${v4Prefix}.2/24`, gateway: `${v4Prefix}.1` },
      { address: `${v6Prefix}::2/64`, gateway: `${v6Prefix}::1` },
    ]);
    expect(net.files()["last_reserved_ip.0"]).toBe(`${extra}.100`);
  });
});

describe("GC (CNI 1.1.0)", () => {
  it("releases every lease of attachments not listed and keeps the listed ones", () => {
    const config = net.config({ cniVersion: "1.1.0" });
    for (const containerId of ["keep", "drop"]) expect(net.call("ADD", config, { containerId }).status).toBe(0);
    expect(net.call("ADD", config, { containerId: "keep", ifname: "eth1" }).status).toBe(0);

    const gc = net.call("GC", { ...config, "cni.dev/valid-attachments": [{ containerID: "keep", ifname: "eth0" }] });
    expect(gc.status, gc.stdout).toBe(0);
    expect(Object.values(net.leases()).sort()).toEqual(["keep\r\neth0", "keep\r\neth0"]);
    // DEL still finds what GC kept.
    expect(net.call("DEL", config, { containerId: "keep" }).status).toBe(0);
    expect(net.leases()).toEqual({});
  });

  it("refuses a GC without the list of valid attachments rather than release everything (code 7)", () => {
    const config = net.config({ cniVersion: "1.1.0" });
    net.call("ADD", config);
    const gc = net.call("GC", config);
    expect(gc.json).toMatchObject({ code: 7, msg: expect.stringContaining("cni.dev/valid-attachments") });
    expect(Object.keys(net.leases())).toHaveLength(2);
  });
});

describe("STATUS (CNI 1.1.0)", () => {
  it("succeeds while every range set has a free address", () => {
    const config = net.config({ cniVersion: "1.1.0" });
    expect(net.call("STATUS", config).status).toBe(0);
    net.call("ADD", config);
    expect(net.call("STATUS", config).status).toBe(0);
  });

  it("answers code 50 naming the range set that has no free address left", () => {
    const { v4Prefix } = net.subnets;
    // A /30 holds one address to hand out: .2 (.1 is the gateway, .3 the broadcast address).
    const config = net.config({ cniVersion: "1.1.0", ipam: { ranges: [[{ subnet: net.subnets.v6 }], [{ subnet: `${v4Prefix}.0/30` }]] } });
    expect(net.call("ADD", config).status).toBe(0);
    const status = net.call("STATUS", config);
    expect(status.status).toBe(1);
    expect(status.json).toMatchObject({ code: 50, msg: expect.stringContaining(`range set 1 (${v4Prefix}.1-${v4Prefix}.2)`) });
    net.call("DEL", config);
    expect(net.call("STATUS", config).status).toBe(0);
  });
});
