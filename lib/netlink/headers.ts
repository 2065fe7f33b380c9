import { struct } from "./struct.ts";

/** The fixed headers that follow nlmsghdr, one per rtnetlink message family. */

export const nlmsghdr = struct("nlmsghdr", { len: "u32", type: "u16", flags: "u16", seq: "u32", pid: "u32" });

/** Links: RTM_NEWLINK/DELLINK/GETLINK/SETLINK, and the veth peer inside VETH_INFO_PEER. */
export const ifinfomsg = struct("ifinfomsg", {
  family: "u8",
  pad: "u8",
  type: "u16",
  index: "i32",
  flags: "u32",
  change: "u32",
});

export const ifaddrmsg = struct("ifaddrmsg", {
  family: "u8",
  prefixlen: "u8",
  flags: "u8",
  scope: "u8",
  index: "u32",
});

export const rtmsg = struct("rtmsg", {
  family: "u8",
  dstLen: "u8",
  srcLen: "u8",
  tos: "u8",
  table: "u8",
  protocol: "u8",
  scope: "u8",
  type: "u8",
  flags: "u32",
});

export const ndmsg = struct("ndmsg", {
  family: "u8",
  pad1: "u8",
  pad2: "u16",
  index: "i32",
  state: "u16",
  flags: "u8",
  type: "u8",
});

export const fibRuleHdr = struct("fib_rule_hdr", {
  family: "u8",
  dstLen: "u8",
  srcLen: "u8",
  tos: "u8",
  table: "u8",
  res1: "u8",
  res2: "u8",
  action: "u8",
  flags: "u32",
});

/** Qdiscs, classes and filters: handle and parent are major:minor pairs packed in 32 bits. */
export const tcmsg = struct("tcmsg", {
  family: "u8",
  pad1: "u8",
  pad2: "u16",
  index: "i32",
  handle: "u32",
  parent: "u32",
  info: "u32",
});

/** One VLAN of a bridge port (IFLA_BRIDGE_VLAN_INFO). */
export const bridgeVlanInfo = struct("bridge_vlan_info", { flags: "u16", vid: "u16" });
