/**
 * dhcp: IP address management by a DHCP server on the container's network (usually a LAN
 * reached through macvlan or a bridge with a physical port). The plugin is a thin client: the
 * `dhcp daemon` (this same executable, running as a service) talks DHCP in the container's
 * namespace and keeps each lease renewed; the plugin asks it over its unix socket, speaking the
 * reference's protocol, so either half can be the reference's.
 */
import { resolve } from "node:path";
import { allocateLease, daemonListening, daemonNotRunningMessage, heldLease, readDhcpConfig, releaseLease, type CmdArgs } from "../../lib/dhcp/index.ts";
import { Cidr } from "../../lib/ip/index.ts";
import { CniError, definePlugin, ErrorCode, log, type AttachmentRequest } from "../../lib/skel/index.ts";
import { dhcpConfigSchema, parseDhcpConfig, type DhcpConfig } from "./config.ts";

export default definePlugin<DhcpConfig>({
  name: "dhcp",
  about: "dhcp IPAM: addresses from a DHCP server, through the dhcp daemon (`dhcp daemon`)",
  configSchema: dhcpConfigSchema,
  parseConfig: parseDhcpConfig,

  async add(request) {
    readDhcpConfig(request.config.raw, request.args.text); // provide/request problems are code 7 here, before any DHCP
    return allocateLease(request.config.socketPath, cmdArgs(request));
  },

  async del(request) {
    const outcome = await releaseLease(request.config.socketPath, cmdArgs(request));
    if (outcome === "no daemon") log(`dhcp: ${daemonNotRunningMessage(request.config.socketPath)}; no lease to release`);
  },

  async check(request) {
    readDhcpConfig(request.config.raw, request.args.text);
    const held = await heldLease(request.config.socketPath, cmdArgs(request));
    const address = held.ips?.[0]?.address;
    const given = (request.prevResult?.ips ?? []).map((ipc) => ipc.address);
    if (address && given.length > 0 && !given.some((cidr) => Cidr.parse(cidr).equals(Cidr.parse(address)))) {
      throw new CniError(ErrorCode.CheckFailed, `the lease is now ${address}, but the container was given ${given.join(", ")}`);
    }
  },

  async status(request) {
    if (!(await daemonListening(request.config.socketPath))) {
      throw new CniError(ErrorCode.NotAvailable, daemonNotRunningMessage(request.config.socketPath));
    }
  },
});

/** The call's CNI parameters as skel.CmdArgs; the namespace path absolute, as the daemon may run elsewhere. */
function cmdArgs(request: AttachmentRequest<DhcpConfig>): CmdArgs {
  return {
    containerId: request.containerId,
    netns: request.netns === "" ? "" : resolve(request.netns),
    ifname: request.ifname,
    args: request.args.text,
    path: request.path.join(":"),
    stdin: request.stdin,
  };
}
