import { struct } from "../netlink/index.ts";

/**
 * The C structs traffic control carries inside attributes. Nested structs (tc_ratespec inside
 * tc_tbf_qopt) are flattened with a prefix; signed 16-bit fields are read as unsigned, which
 * nothing here depends on.
 */

/** struct tc_tbf_qopt: rate and peakrate (struct tc_ratespec each), limit, buffer and mtu. */
export const tcTbfQopt = struct("tc_tbf_qopt", {
  rateCellLog: "u8",
  rateLinklayer: "u8",
  rateOverhead: "u16",
  rateCellAlign: "u16",
  rateMpu: "u16",
  rate: "u32",
  peakCellLog: "u8",
  peakLinklayer: "u8",
  peakOverhead: "u16",
  peakCellAlign: "u16",
  peakMpu: "u16",
  peakrate: "u32",
  limit: "u32",
  buffer: "u32",
  mtu: "u32",
});

/** struct tc_u32_sel without its trailing keys (tcU32Key each). Masks and values are big-endian. */
export const tcU32Sel = struct("tc_u32_sel", {
  flags: "u8",
  offshift: "u8",
  nkeys: "u8",
  pad: "u8",
  offmask: "u16be",
  off: "u16",
  offoff: "u16",
  hoff: "u16",
  hmask: "u32be",
});

/** struct tc_u32_key: the 32 bits at offset `off` (of the network header), masked, equal `val`. */
export const tcU32Key = struct("tc_u32_key", { mask: "u32be", val: "u32be", off: "i32", offmask: "i32" });

/** struct tc_mirred: tc_gen (index, capab, action, refcnt, bindcnt), then eaction and ifindex. */
export const tcMirred = struct("tc_mirred", {
  index: "u32",
  capab: "u32",
  action: "i32",
  refcnt: "i32",
  bindcnt: "i32",
  eaction: "i32",
  ifindex: "u32",
});
