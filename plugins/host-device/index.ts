/**
 * host-device: moves an existing host interface (a NIC, an SR-IOV VF, a veth end, a CAN device)
 * into the container under CNI_IFNAME, addresses it through the IPAM plugin if one is configured,
 * and moves it back under its own name, with its MAC and MTU, on DEL.
 */
import { Failures } from "../../lib/core/index.ts";
import { Ipam, ipamGc, ipamStatus } from "../../lib/invoke/index.ts";
import { applyIpamResult, withAttachment, withDelAttachment, type Attachment } from "../../lib/link/index.ts";
import { NetNS } from "../../lib/netns/index.ts";
import { Rollback, definePlugin, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkMovedDevice } from "./check.ts";
import { hostDeviceConfigSchema, parseHostDeviceConfig, type HostDeviceConfig } from "./config.ts";
import { findHostDevice } from "./device.ts";
import { moveIntoContainer, moveOutOfContainer, reclaimReturnedDevice } from "./move.ts";
import { forgetOriginal, forgetStale, readOriginal, saveOriginal } from "./state.ts";

type HostDeviceRequest = AttachmentRequest<HostDeviceConfig>;

export default definePlugin<HostDeviceConfig>({
  name: "host-device",
  about: "CNI host-device plugin: moves a host interface into the container and back",
  configSchema: hostDeviceConfigSchema,
  parseConfig: parseHostDeviceConfig,

  add: (request) =>
    withAttachment(request.netns, (attachment) => withHostNetns((hostNs) => Rollback.guard((rollback) => addAttachment(request, attachment, hostNs, rollback)))),

  async del(request) {
    const key = { containerId: request.containerId, ifname: request.ifname };
    const original = readOriginal(key);
    await withDelAttachment(request.netns, async (attachment) => {
      // IPAM first, while the interface is still in the container (a DHCP release goes out on it).
      await Ipam.of(request)?.del();
      if (attachment.container) await withHostNetns((hostNs) => moveOutOfContainer(attachment, hostNs, request.ifname, original));
      else if (original) reclaimReturnedDevice(attachment.host, original);
    });
    forgetOriginal(key);
  },

  async check(request) {
    await Ipam.of(request)?.check();
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    if (request.config.target.kind !== "interface") return;
    await withAttachment(request.netns, (attachment) => checkMovedDevice(attachment, request.netns, request.ifname, prevResult));
  },

  status: (request) => ipamStatus(request),

  async gc(request) {
    const failures = new Failures();
    await failures.attemptAsync(() => ipamGc(request));
    failures.attempt(() => forgetStale(request.config.name, request.validAttachments));
    failures.throwIfAny("GC");
  },
});

async function addAttachment(request: HostDeviceRequest, attachment: Attachment, hostNs: NetNS, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const result: Result = { interfaces: [{ name: ifname, sandbox: request.netns }] };

  const { target } = config;
  // A device bound to a userspace (DPDK) driver has no kernel interface to move.
  if (target.kind === "interface") {
    const device = findHostDevice(attachment.host, target.selector);
    const key = { containerId: request.containerId, ifname };
    saveOriginal(key, { device: device.name, mac: device.mac, mtu: device.mtu, alias: device.alias, network: config.name });
    rollback.add("the saved original settings", () => forgetOriginal(key));
    const moved = moveIntoContainer(attachment, hostNs, device, ifname, rollback);
    result.interfaces = [{ name: moved.name, mac: moved.mac, sandbox: request.netns }];
  }

  const ipam = Ipam.of(request);
  if (!ipam) return result;
  const addresses = await ipam.add(rollback);
  const configured: Result = {
    ...addresses,
    interfaces: result.interfaces,
    ips: (addresses.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
    // As the reference: the configuration's dns, not the IPAM plugin's.
    dns: config.dns,
  };
  if (target.kind === "interface") await applyIpamResult(attachment, ifname, configured);
  return configured;
}

/** Runs `work` with a handle on the plugin's own (host) namespace, to move devices back into. */
async function withHostNetns<T>(work: (hostNs: NetNS) => T | Promise<T>): Promise<T> {
  const hostNs = NetNS.current();
  try {
    return await work(hostNs);
  } finally {
    hostNs.close();
  }
}
