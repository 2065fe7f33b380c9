/**
 * DHCPv4 for the dhcp IPAM plugin: the plugin's client of the daemon's socket and the
 * configuration both read. The daemon itself (protocol, leases, net/rpc server) is started by
 * lib/main.ts from daemon-main.ts and never loaded by a plugin run.
 */
export { DEFAULT_REQUESTED, DEFAULT_SOCKET_PATH, dhcpIpamSchema, readDhcpConfig, type DhcpIpamInput, type DhcpRequestSettings } from "./config.ts";
export { allocateLease, daemonListening, daemonNotRunningMessage, heldLease, releaseLease, type CmdArgs } from "./daemon-client.ts";
export { KNOWN_OPTION_NAMES } from "./options.ts";
