/**
 * DHCPv4 for the dhcp IPAM plugin: the plugin's client of the daemon's socket and the
 * configuration both read. The daemon itself (protocol, leases, net/rpc server) is loaded only
 * when lib/main.ts starts it, through `runDhcpDaemon`, so a plugin run never loads it.
 */
export { DEFAULT_REQUESTED, DEFAULT_SOCKET_PATH, dhcpIpamSchema, readDhcpConfig, type DhcpIpamInput, type DhcpRequestSettings } from "./config.ts";
export { allocateLease, daemonListening, daemonNotRunningMessage, heldLease, releaseLease, type CmdArgs } from "./daemon-client.ts";
export { KNOWN_OPTION_NAMES } from "./options.ts";

/** `dhcp daemon [flags]`; the daemon's modules are imported on this call only. */
export async function runDhcpDaemon(args: string[]): Promise<number> {
  const daemon = await import("./daemon-main.ts");
  return daemon.runDhcpDaemon(args);
}
