/**
 * tap: creates a tap device in the container's namespace (for a virtual machine run inside the
 * container to attach to), optionally a port of a bridge there, and addresses it through the
 * IPAM plugin if one is configured.
 */
import { Ipam, ipamGc, ipamStatus } from "../../lib/invoke/index.ts";
import {
  applyIpamResult,
  checkInterfaceAddresses,
  checkRoutes,
  releaseAndDeleteInterface,
  setMac,
  setMtu,
  withAttachment,
  withDelAttachment,
  type Attachment,
} from "../../lib/link/index.ts";
import type { Link } from "../../lib/netlink/index.ts";
import { trySysctl } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, Rollback, definePlugin, invalidConfig, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { parseTapConfig, tapConfigSchema, type TapConfig } from "./config.ts";
import { createContainerTap } from "./create.ts";

type TapRequest = AttachmentRequest<TapConfig>;

export default definePlugin<TapConfig>({
  name: "tap",
  about: "CNI tap plugin: creates a tap device in the container's namespace",
  configSchema: tapConfigSchema,
  parseConfig: parseTapConfig,

  add: (request) => withAttachment(request.netns, (attachment) => Rollback.guard((rollback) => addTap(request, attachment, rollback))),

  async del(request) {
    const ipam = Ipam.of(request);
    await withDelAttachment(request.netns, (attachment) => releaseAndDeleteInterface(attachment, request.ifname, async () => ipam?.del()));
  },

  async check(request) {
    await Ipam.of(request)?.check();
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    await withAttachment(request.netns, ({ container }) => {
      const { ifname, netns } = request;
      const entry = (prevResult.interfaces ?? []).find((intf) => intf.name === ifname && intf.sandbox === netns);
      if (!entry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);
      const tap = container.linkByName(ifname);
      if (!tap) throw checkFailed(`tap ${ifname} not found in ${netns}`);
      if (tap.kind !== "tun") throw checkFailed(`${ifname} in ${netns} is a ${tap.kind ?? "plain device"}, not a tap`);
      checkInterfaceAddresses(container, ifname, prevResult);
      checkRoutes(container, prevResult.routes ?? []);
    });
  },

  status: (request) => ipamStatus(request),
  gc: (request) => ipamGc(request),
});

async function addTap(request: TapRequest, attachment: Attachment, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const { container } = attachment;
  const bridge = config.bridge === undefined ? undefined : containerBridge(attachment, config.bridge);

  let tap = createContainerTap(attachment, config, ifname, rollback);
  if (config.mtu) setMtu(container, tap, config.mtu);
  if (config.mac) setMac(container, tap, config.mac, "mac");
  if (bridge) container.setLink(tap.index, { master: bridge.index });
  tap = container.linkByName(ifname) ?? tap;
  const result: Result = { interfaces: [{ name: ifname, mac: tap.mac, sandbox: request.netns }] };

  const ipam = Ipam.of(request);
  if (ipam) {
    const addresses = await ipam.add(rollback);
    result.ips = (addresses.ips ?? []).map((ip) => ({ ...ip, interface: 0 }));
    result.routes = addresses.routes;
    attachment.netns.run(() => trySysctl(`net/ipv4/conf/${ifname}/arp_notify`, "1"));
    await applyIpamResult(attachment, ifname, result);
  } else {
    container.setLink(tap.index, { up: true });
  }
  // As the reference: the configuration's dns, not the IPAM plugin's.
  result.dns = config.dns;
  return result;
}

/** The bridge named by `bridge`, which must be one in the container's namespace (code 7 otherwise). */
function containerBridge({ container }: Attachment, name: string): Link {
  const bridge = container.linkByName(name);
  if (!bridge) throw invalidConfig("bridge", name, "no such bridge in the container's network namespace");
  if (bridge.kind !== "bridge") throw invalidConfig("bridge", name, `is a ${bridge.kind ?? "plain device"} in the container's network namespace, not a bridge`);
  return bridge;
}

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}
