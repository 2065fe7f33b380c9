import { z } from "zod";
import { parseMac } from "../../lib/core/index.ts";
import { invalidConfig, netConfSchema, parseWithSchema, type ConfigContext, type NetConf } from "../../lib/skel/index.ts";
import { KERNEL_PATH_PREFIX, hasUserspaceDriver, isAuxiliaryDevice, isPciDevice } from "./sysfs.ts";

/**
 * host-device's configuration: the schema of what users write (exported for JSON Schema
 * generation) and its resolution into the one device ADD moves and CHECK looks for.
 */

export const hostDeviceConfigSchema = netConfSchema.extend({
  device: z.string().nullish().describe('Name of the host interface to move into the container ("eth1", "can0")'),
  hwaddr: z.string().nullish().describe("MAC address of the host interface to move"),
  kernelpath: z.string().nullish().describe('Kernel device path of the interface, below /sys/devices/ ("/sys/devices/pci0000:00/0000:00:19.0")'),
  pciBusID: z.string().nullish().describe('PCI address of the network device ("0000:00:19.0"); a device bound to vfio-pci, uio_pci_generic or igb_uio (DPDK) is not moved'),
  DPDKMode: z
    .boolean()
    .nullish()
    .describe("The reference's internal flag, which its decoder also reads from the configuration: true skips moving the device (derived from the driver when pciBusID is set)"),
  runtimeConfig: z
    .looseObject({
      deviceID: z.string().nullish().describe("The deviceID capability: a PCI address or an auxiliary-bus device name; it replaces pciBusID"),
    })
    .optional(),
});

type HostDeviceInput = z.infer<typeof hostDeviceConfigSchema>;

/** How the configuration picks the host device, in the reference's order of precedence. */
export type DeviceSelector =
  | { field: "device"; name: string }
  | { field: "hwaddr"; mac: string }
  | { field: "kernelpath"; path: string }
  | { field: "pciBusID" | "runtimeConfig.deviceID"; pciAddress: string }
  | { field: "runtimeConfig.deviceID"; auxiliaryDevice: string };

/**
 * What the attachment is about: a kernel interface to move (ADD) or that was moved (CHECK); a
 * device bound to a userspace (DPDK) driver, which has no interface (nothing is moved, IPAM still
 * runs); or, for DEL, STATUS and GC, nothing resolved: DEL moves back what the container has
 * under CNI_IFNAME, so a device gone from sysfs meanwhile cannot block it.
 */
export type DeviceTarget = { kind: "interface"; selector: DeviceSelector } | { kind: "userspace" } | { kind: "unresolved" };

export interface HostDeviceConfig extends NetConf {
  target: DeviceTarget;
}

export function parseHostDeviceConfig(raw: Record<string, unknown>, context: ConfigContext): HostDeviceConfig {
  const input = parseWithSchema(hostDeviceConfigSchema, raw);
  if (context.command !== "ADD" && context.command !== "CHECK") return { ...input, target: { kind: "unresolved" } };
  const bus = resolveBusDevice(input);
  const selector = resolveSelector(input, bus);
  const userspace = bus.pciAddress ? userspaceDriver(bus.pciAddress, bus.field) : (input.DPDKMode ?? false);
  return { ...input, target: userspace ? { kind: "userspace" } : { kind: "interface", selector } };
}

interface BusDevice {
  field: "pciBusID" | "runtimeConfig.deviceID";
  pciAddress?: string;
  auxiliaryDevice?: string;
}

/**
 * The deviceID capability replaces pciBusID: a PCI address, or else a device on the auxiliary
 * bus. As in the reference, it is looked up even when "device" or "hwaddr" picks the interface,
 * and the PCI device's driver decides whether anything is moved at all.
 */
function resolveBusDevice(input: HostDeviceInput): BusDevice {
  const deviceId = input.runtimeConfig?.deviceID || undefined;
  if (!deviceId) {
    if (input.pciBusID) checkDeviceName("pciBusID", input.pciBusID);
    return { field: "pciBusID", pciAddress: input.pciBusID || undefined };
  }
  const field = "runtimeConfig.deviceID";
  checkDeviceName(field, deviceId);
  if (isPciDevice(deviceId)) return { field, pciAddress: deviceId };
  if (isAuxiliaryDevice(deviceId)) return { field, auxiliaryDevice: deviceId };
  throw invalidConfig(field, deviceId, "no such PCI or auxiliary-bus device");
}

const NO_DEVICE = 'name the device with one of "device", "hwaddr", "kernelpath", "pciBusID" (or the deviceID capability)';

function resolveSelector(input: HostDeviceInput, bus: BusDevice): DeviceSelector {
  if (input.device) return { field: "device", name: input.device };
  if (input.hwaddr) {
    const mac = parseMac(input.hwaddr);
    if (!mac) throw invalidConfig("hwaddr", input.hwaddr, "must be a MAC address like c2:b0:57:49:47:f1");
    return { field: "hwaddr", mac };
  }
  if (input.kernelpath) {
    if (!input.kernelpath.startsWith(KERNEL_PATH_PREFIX) || input.kernelpath.split("/").includes("..")) {
      throw invalidConfig("kernelpath", input.kernelpath, `must be an absolute path beginning with ${KERNEL_PATH_PREFIX}`);
    }
    return { field: "kernelpath", path: input.kernelpath };
  }
  if (bus.pciAddress) return { field: bus.field, pciAddress: bus.pciAddress };
  if (bus.auxiliaryDevice) return { field: "runtimeConfig.deviceID", auxiliaryDevice: bus.auxiliaryDevice };
  throw invalidConfig("device", input.device, NO_DEVICE);
}

/** A device address is one sysfs directory name, never a path. */
function checkDeviceName(field: string, value: string): void {
  if (value.includes("/") || value === "." || value === "..") throw invalidConfig(field, value, "must be a device address, not a path");
}

function userspaceDriver(pciAddress: string, field: string): boolean {
  try {
    return hasUserspaceDriver(pciAddress);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such PCI device, or no driver bound to it" : (error as Error).message;
    throw invalidConfig(field, pciAddress, reason);
  }
}
