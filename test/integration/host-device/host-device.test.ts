/**
 * host-device against the kernel: a veth end (in a "host" namespace of the test's own) moved
 * into a container and back, CHECK, DEL in every state the container can be in, and a failed
 * ADD that must leave the device where it was.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HostDeviceFixture, OUR_HOST_DEVICE, ip, stateExists } from "./harness.ts";

let fixture: HostDeviceFixture;
afterEach(() => fixture?.remove());

function hostLocal(scratch: string, subnet = "10.231.7.0/24") {
  return { type: "host-local", subnet, dataDir: join(scratch, "leases") };
}

describe("host-device ADD and DEL", () => {
  it("moves the device in under CNI_IFNAME with its MAC, addresses it, and traffic flows to its peer", () => {
    fixture = new HostDeviceFixture();
    fixture.host.exec(["ip", "addr", "add", "10.231.7.1/24", "dev", fixture.peer]);
    const config = fixture.config({ ipam: hostLocal(fixture.scratch) });
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(add.json).toEqual({
      cniVersion: "1.0.0",
      interfaces: [{ name: "net1", mac: fixture.mac, sandbox: fixture.container.path }],
      ips: [{ interface: 0, address: "10.231.7.2/24", gateway: "10.231.7.1" }],
      dns: {},
    });
    expect(fixture.hostLink(fixture.device)).toBeUndefined();
    const moved = fixture.containerLink()!;
    expect(moved).toMatchObject({ address: fixture.mac, mtu: fixture.mtu, ifalias: fixture.device });
    expect(moved.flags).toContain("UP");
    expect(fixture.container.exec(["ping", "-c", "1", "-W", "2", "10.231.7.1"])).toContain("1 received");
  });

  it("moves it back on DEL under its own name with the MAC, MTU and alias it had, and a second DEL does nothing", () => {
    fixture = new HostDeviceFixture();
    fixture.host.exec(["ip", "link", "set", fixture.device, "alias", "uplink of rack 4"]);
    const config = fixture.config({ ipam: hostLocal(fixture.scratch) });
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(stateExists(fixture.statePath())).toBe(true);
    // The container changes what it was given; DEL must hand the host back what it had.
    fixture.container.exec(["ip", "link", "set", "net1", "mtu", "1300", "address", "02:42:ac:11:00:99"]);

    const del = fixture.call(OUR_HOST_DEVICE, "DEL", { ...config, prevResult: add.json });
    expect(del.status, del.stdout).toBe(0);
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
    expect(fixture.hostLink(fixture.device)).toMatchObject({ address: fixture.mac, mtu: fixture.mtu, ifalias: "uplink of rack 4" });
    expect(stateExists(fixture.statePath())).toBe(false);
    expect(readFileSync(join(fixture.scratch, "leases", "hdnet", "last_reserved_ip.0"), "utf8")).toBe("10.231.7.2");
    expect(() => readFileSync(join(fixture.scratch, "leases", "hdnet", "10.231.7.2"))).toThrow();

    const again = fixture.call(OUR_HOST_DEVICE, "DEL", config);
    expect(again.status, again.stdout).toBe(0);
    expect(fixture.hostLink(fixture.device)).toBeDefined();
  });

  it("works without IPAM: the interface comes up without addresses", () => {
    fixture = new HostDeviceFixture();
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", fixture.config());
    expect(add.status, add.stdout).toBe(0);
    expect(add.json).toEqual({ cniVersion: "1.0.0", interfaces: [{ name: "net1", mac: fixture.mac, sandbox: fixture.container.path }], dns: {} });
    expect(fixture.containerLink()!.flags).toContain("UP");
    expect(fixture.call(OUR_HOST_DEVICE, "DEL", fixture.config()).status).toBe(0);
    expect(fixture.hostLink(fixture.device)).toBeDefined();
  });

  it("finds the device by hwaddr in any spelling Go accepts", () => {
    fixture = new HostDeviceFixture();
    const config = { ...fixture.config(), device: undefined, hwaddr: fixture.mac.toUpperCase().replaceAll(":", "-") };
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(fixture.containerLink()).toMatchObject({ address: fixture.mac, ifalias: fixture.device });
    expect(fixture.call(OUR_HOST_DEVICE, "DEL", config).status).toBe(0);
  });

  it("answers code 7 naming device for a device that is not there, and leaves nothing behind", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config({ device: "hdnosuchdev", ipam: hostLocal(fixture.scratch) });
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config);
    expect(add.status).toBe(1);
    expect(add.json).toMatchObject({ code: 7, msg: 'invalid config: device="hdnosuchdev": no such network interface on the host' });
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
    expect(stateExists(fixture.statePath())).toBe(false);
    expect(() => readFileSync(join(fixture.scratch, "leases", "hdnet", "last_reserved_ip.0"))).toThrow();
  });

  it("puts the device back as it was when a later step of ADD fails (IPAM not found)", () => {
    fixture = new HostDeviceFixture();
    fixture.host.exec(["ip", "link", "set", fixture.device, "up", "alias", "before"]);
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", fixture.config({ ipam: { type: "hd-no-such-ipam" } }));
    expect(add.status).toBe(1);
    expect(add.json.code).toBe(102);
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
    const back = fixture.hostLink(fixture.device)!;
    expect(back).toMatchObject({ address: fixture.mac, mtu: fixture.mtu, ifalias: "before" });
    expect(back.flags).toContain("UP");
    expect(stateExists(fixture.statePath())).toBe(false);
  });

  it("refuses with code 4 naming CNI_IFNAME when the container already has that name, moving nothing", () => {
    fixture = new HostDeviceFixture();
    fixture.container.exec(["ip", "link", "add", "net1", "type", "veth", "peer", "name", "hdother"]);
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", fixture.config());
    expect(add.json).toMatchObject({ code: 4, msg: "CNI_IFNAME: an interface named net1 already exists in the container" });
    expect(fixture.hostLink(fixture.device)?.ifalias).toBeUndefined();
    expect(stateExists(fixture.statePath())).toBe(false);
  });
});

describe("host-device CHECK", () => {
  it("passes on what ADD made and answers 104 once the device was moved away", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config({ ipam: hostLocal(fixture.scratch) });
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config);
    expect(add.status, add.stdout).toBe(0);
    const checked = { ...config, prevResult: add.json };
    const check = fixture.call(OUR_HOST_DEVICE, "CHECK", checked);
    expect(check.status, check.stdout).toBe(0);

    ip(fixture.container.name, "link", "set", "net1", "netns", fixture.host.name);
    const moved = fixture.call(OUR_HOST_DEVICE, "CHECK", checked);
    expect(moved.json).toMatchObject({ code: 104 });
    expect(moved.json.msg).toContain(`interface net1 is no longer in ${fixture.container.path}`);
    ip(fixture.host.name, "link", "set", "net1", "netns", fixture.container.name);
  });

  it("answers 104 for a removed address", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config({ ipam: hostLocal(fixture.scratch) });
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config);
    fixture.container.exec(["ip", "addr", "flush", "dev", "net1"]);
    const check = fixture.call(OUR_HOST_DEVICE, "CHECK", { ...config, prevResult: add.json });
    expect(check.json).toMatchObject({ code: 104 });
  });
});

describe("host-device DEL with the container's namespace gone", () => {
  it("releases the lease and the saved record and exits 0 when the namespace took the (virtual) device with it", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config({ ipam: hostLocal(fixture.scratch) });
    expect(fixture.call(OUR_HOST_DEVICE, "ADD", config).status).toBe(0);
    fixture.container.remove();
    const del = fixture.call(OUR_HOST_DEVICE, "DEL", config);
    expect(del.status, del.stdout).toBe(0);
    expect(() => readFileSync(join(fixture.scratch, "leases", "hdnet", "10.231.7.2"))).toThrow();
    expect(stateExists(fixture.statePath())).toBe(false);
  });

  it("renames a device the kernel returned to the host back to its name, with its MAC and MTU", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config();
    expect(fixture.call(OUR_HOST_DEVICE, "ADD", config).status).toBe(0);
    fixture.container.exec(["ip", "link", "set", "net1", "mtu", "1280"]);
    // What the kernel does to a physical device when its namespace is destroyed: back to the
    // initial namespace under the name it had inside, alias and all (a veth would be deleted).
    ip(fixture.container.name, "link", "set", "net1", "netns", fixture.host.name);
    fixture.container.remove();
    const del = fixture.call(OUR_HOST_DEVICE, "DEL", config);
    expect(del.status, del.stdout).toBe(0);
    expect(fixture.hostLink("net1")).toBeUndefined();
    const back = fixture.hostLink(fixture.device)!;
    expect(back).toMatchObject({ address: fixture.mac, mtu: fixture.mtu });
    expect(back.ifalias).toBeUndefined();
  });

  it("exits 0 with CNI_NETNS empty", () => {
    fixture = new HostDeviceFixture();
    const del = fixture.call(OUR_HOST_DEVICE, "DEL", fixture.config(), { netns: "" });
    expect(del.status, del.stdout).toBe(0);
  });
});

describe("host-device STATUS and GC", () => {
  it("GC drops the saved records of its network that no valid attachment names", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config();
    expect(fixture.call(OUR_HOST_DEVICE, "ADD", config).status).toBe(0);
    mkdirSync(fixture.scratch, { recursive: true });
    const keep = fixture.call(OUR_HOST_DEVICE, "GC", { ...config, cniVersion: "1.1.0", "cni.dev/valid-attachments": [{ containerID: fixture.containerId, ifname: "net1" }] });
    expect(keep.status, keep.stdout).toBe(0);
    expect(stateExists(fixture.statePath())).toBe(true);
    const drop = fixture.call(OUR_HOST_DEVICE, "GC", { ...config, cniVersion: "1.1.0", "cni.dev/valid-attachments": [] });
    expect(drop.status, drop.stdout).toBe(0);
    expect(stateExists(fixture.statePath())).toBe(false);
    expect(fixture.call(OUR_HOST_DEVICE, "STATUS", { ...config, cniVersion: "1.1.0" }).status).toBe(0);
  });
});
