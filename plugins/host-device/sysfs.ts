import { existsSync, readdirSync, realpathSync } from "node:fs";
import { basename, join } from "node:path";

/**
 * What host-device reads from sysfs: the network interface of a PCI or auxiliary-bus device,
 * the interface under a kernel device path, and whether a PCI device is bound to a userspace
 * (DPDK) driver. Paths are the reference's.
 *
 * CNI_TS_TEST_SYSFS replaces /sys as the root of these lookups. It exists for the tests only
 * (a fake tree of PCI and auxiliary devices, so the PCI and DPDK paths are tested without a real
 * NIC); nothing else reads it and a deployment must not set it.
 */
export const TEST_SYSFS_VARIABLE = "CNI_TS_TEST_SYSFS";

function sysfsRoot(): string {
  return process.env[TEST_SYSFS_VARIABLE] || "/sys";
}

/** The reference's prefix for `kernelpath`: an absolute path below /sys/devices/. */
export const KERNEL_PATH_PREFIX = "/sys/devices/";

const pciDevices = () => join(sysfsRoot(), "bus/pci/devices");
const auxiliaryDevices = () => join(sysfsRoot(), "bus/auxiliary/devices");

/** Drivers that bind a network device to userspace (DPDK): such a device has no kernel interface. */
const USERSPACE_DRIVERS = ["vfio-pci", "uio_pci_generic", "igb_uio"];

export function isPciDevice(address: string): boolean {
  return exists(join(pciDevices(), address));
}

export function isAuxiliaryDevice(name: string): boolean {
  return exists(join(auxiliaryDevices(), name));
}

/**
 * Whether the PCI device is bound to a userspace driver. Throws (with the file system's words)
 * when the device or its driver link is missing, as the reference fails then.
 */
export function hasUserspaceDriver(address: string): boolean {
  const driver = basename(realpathSync(join(pciDevices(), address, "driver")));
  return USERSPACE_DRIVERS.includes(driver);
}

/** Where a kernel interface is named, by how the configuration picks the device. */
export type SysfsDevice = { kind: "pci"; address: string } | { kind: "auxiliary"; name: string } | { kind: "kernelpath"; path: string };

/**
 * The name of the first network interface of a device, as the reference takes it (the first
 * entry of its net/ directory, in name order); a virtio device keeps it one level down
 * (virtio*\/net). When there is none, the reason.
 */
export function interfaceOfDevice(device: SysfsDevice): { name: string } | { missing: string } {
  const netDir = netDirectory(device);
  if (!netDir) return { missing: `no net directory under ${describeDevice(device)}` };
  let entries: string[];
  try {
    entries = readdirSync(netDir).sort();
  } catch (error) {
    return { missing: `cannot read ${netDir}: ${(error as Error).message}` };
  }
  const name = entries[0];
  return name ? { name } : { missing: `no network interface in ${netDir}` };
}

function netDirectory(device: SysfsDevice): string | undefined {
  switch (device.kind) {
    case "kernelpath":
      return join(sysfsRoot(), device.path.slice("/sys".length), "net");
    case "auxiliary":
      return join(auxiliaryDevices(), device.name, "net");
    case "pci": {
      const base = join(pciDevices(), device.address);
      const direct = join(base, "net");
      if (exists(direct)) return direct;
      const virtio = safeList(base)
        .filter((entry) => entry.startsWith("virtio"))
        .sort()
        .map((entry) => join(base, entry, "net"))
        .find(exists);
      return virtio;
    }
  }
}

function describeDevice(device: SysfsDevice): string {
  switch (device.kind) {
    case "kernelpath":
      return device.path;
    case "auxiliary":
      return `auxiliary device ${device.name}`;
    case "pci":
      return `PCI device ${device.address}`;
  }
}

function exists(path: string): boolean {
  return existsSync(path);
}

function safeList(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
