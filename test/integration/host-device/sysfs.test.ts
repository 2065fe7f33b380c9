/**
 * The ways to name a device through sysfs (pciBusID, kernelpath, the deviceID capability with a
 * PCI address or an auxiliary-bus device, a virtio device's nested net directory) and a device
 * bound to a userspace (DPDK) driver, against a fake sysfs tree: CNI_TS_TEST_SYSFS, a
 * variable for the tests only, moves the root of those lookups. The interface the tree names is
 * the fixture's veth end; no real NIC is involved.
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HostDeviceFixture, OUR_HOST_DEVICE, stateExists } from "./harness.ts";

let fixture: HostDeviceFixture;
afterEach(() => fixture?.remove());

const PCI = "0000:00:19.0";
const VIRTIO_PCI = "0000:00:1a.0";
const DPDK_PCI = "0000:03:00.1";
const AUXILIARY = "mlx5_core.sf.2";

/** A sysfs tree naming the fixture's device in every place host-device looks. */
function fakeSysfs(fixture: HostDeviceFixture): string {
  const root = join(fixture.scratch, "sys");
  const pci = join(root, "bus/pci/devices");
  const drivers = join(root, "bus/pci/drivers");
  for (const driver of ["e1000e", "virtio-pci", "vfio-pci"]) mkdirSync(join(drivers, driver), { recursive: true });
  const device = (dir: string, driver: string) => {
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(drivers, driver), join(dir, "driver"));
  };
  device(join(pci, PCI), "e1000e");
  mkdirSync(join(pci, PCI, "net", fixture.device), { recursive: true });
  device(join(pci, VIRTIO_PCI), "virtio-pci");
  mkdirSync(join(pci, VIRTIO_PCI, "virtio3", "net", fixture.device), { recursive: true });
  device(join(pci, DPDK_PCI), "vfio-pci");
  mkdirSync(join(root, "bus/auxiliary/devices", AUXILIARY, "net", fixture.device), { recursive: true });
  mkdirSync(join(root, "devices/pci0000:00", PCI, "net", fixture.device), { recursive: true });
  return root;
}

function withSysfs(fixture: HostDeviceFixture) {
  return { env: { CNI_TS_TEST_SYSFS: fakeSysfs(fixture) } };
}

describe("host-device finds the device through sysfs", () => {
  const ways: [string, (fixture: HostDeviceFixture) => Record<string, unknown>][] = [
    ["pciBusID", () => ({ pciBusID: PCI })],
    ["pciBusID of a virtio device (virtio*/net)", () => ({ pciBusID: VIRTIO_PCI })],
    ["kernelpath", () => ({ kernelpath: `/sys/devices/pci0000:00/${PCI}` })],
    ["the deviceID capability with a PCI address, replacing pciBusID", () => ({ pciBusID: "0000:99:99.9", runtimeConfig: { deviceID: PCI } })],
    ["the deviceID capability with an auxiliary-bus device", () => ({ runtimeConfig: { deviceID: AUXILIARY } })],
  ];
  it.each(ways)("by %s, and moves it back on DEL", (_way, settings) => {
    fixture = new HostDeviceFixture();
    const config = { ...fixture.config(), device: undefined, ...settings(fixture) };
    const options = withSysfs(fixture);
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config, options);
    expect(add.status, add.stdout).toBe(0);
    expect(fixture.containerLink()).toMatchObject({ address: fixture.mac, ifalias: fixture.device });
    expect(fixture.call(OUR_HOST_DEVICE, "DEL", config, options).status).toBe(0);
    expect(fixture.hostLink(fixture.device)).toMatchObject({ address: fixture.mac });
  });

  it("moves nothing for a device bound to vfio-pci (DPDK), and still runs IPAM without configuring an interface", () => {
    fixture = new HostDeviceFixture();
    const ipam = { type: "static", addresses: [{ address: "10.231.9.5/24" }] };
    const config = { ...fixture.config(), device: undefined, pciBusID: DPDK_PCI, ipam };
    const options = withSysfs(fixture);
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config, options);
    expect(add.status, add.stdout).toBe(0);
    expect(add.json).toEqual({
      cniVersion: "1.0.0",
      interfaces: [{ name: "net1", sandbox: fixture.container.path }],
      ips: [{ interface: 0, address: "10.231.9.5/24" }],
      dns: {},
    });
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
    expect(stateExists(fixture.statePath())).toBe(false);
    expect(fixture.call(OUR_HOST_DEVICE, "CHECK", { ...config, prevResult: add.json }, options).status).toBe(0);
    expect(fixture.call(OUR_HOST_DEVICE, "DEL", config, options).status).toBe(0);
  });

  it("moves nothing when the deviceID capability names a DPDK-bound device, even though device names an interface (the reference's precedence)", () => {
    fixture = new HostDeviceFixture();
    const config = { ...fixture.config(), runtimeConfig: { deviceID: DPDK_PCI } };
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config, withSysfs(fixture));
    expect(add.status, add.stdout).toBe(0);
    expect(fixture.hostLink(fixture.device)).toBeDefined();
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
  });

  const missing: [string, Record<string, unknown>, string][] = [
    ["a PCI address that is not there", { pciBusID: "0000:99:00.0" }, 'invalid config: pciBusID="0000:99:00.0": no such PCI device, or no driver bound to it'],
    ["a deviceID on neither bus", { runtimeConfig: { deviceID: "0000:99:00.0" } }, 'invalid config: runtimeConfig.deviceID="0000:99:00.0": no such PCI or auxiliary-bus device'],
    ["a kernel path without a net directory", { kernelpath: "/sys/devices/pci0000:00/0000:00:1f.0" }, 'invalid config: kernelpath="/sys/devices/pci0000:00/0000:00:1f.0": cannot read'],
  ];
  it.each(missing)("answers code 7 for %s, moving nothing", (_what, settings, message) => {
    fixture = new HostDeviceFixture();
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", { ...fixture.config(), device: undefined, ...settings }, withSysfs(fixture));
    expect(add.status).toBe(1);
    expect(add.json.code).toBe(7);
    expect(add.json.msg).toContain(message);
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
  });
});
