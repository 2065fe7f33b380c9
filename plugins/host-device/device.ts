import type { Link, Rtnetlink } from "../../lib/netlink/index.ts";
import { invalidConfig } from "../../lib/skel/index.ts";
import type { DeviceSelector } from "./config.ts";
import { interfaceOfDevice, type SysfsDevice } from "./sysfs.ts";

/**
 * The host interface the configuration names. A device that is not there is code 7 naming the
 * key that picked it: the configuration points at nothing.
 */
export function findHostDevice(host: Rtnetlink, selector: DeviceSelector): Link {
  if ("name" in selector) {
    return host.linkByName(selector.name) ?? missing(selector.field, selector.name, "no such network interface on the host");
  }
  if ("mac" in selector) {
    const link = host.links().find((candidate) => candidate.mac?.toLowerCase() === selector.mac);
    return link ?? missing(selector.field, selector.mac, "no host interface has this MAC address");
  }
  const [device, value] = sysfsDevice(selector);
  const found = interfaceOfDevice(device);
  if ("missing" in found) return missing(selector.field, value, found.missing);
  return host.linkByName(found.name) ?? missing(selector.field, value, `its interface ${found.name} is not in this network namespace`);
}

function sysfsDevice(selector: Exclude<DeviceSelector, { name: string } | { mac: string }>): [SysfsDevice, string] {
  if ("path" in selector) return [{ kind: "kernelpath", path: selector.path }, selector.path];
  if ("pciAddress" in selector) return [{ kind: "pci", address: selector.pciAddress }, selector.pciAddress];
  return [{ kind: "auxiliary", name: selector.auxiliaryDevice }, selector.auxiliaryDevice];
}

function missing(field: string, value: string, reason: string): never {
  throw invalidConfig(field, value, reason);
}
