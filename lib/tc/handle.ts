import { TC_H_INGRESS, TC_H_ROOT } from "../netlink/index.ts";

/** Qdisc, class and filter handles: a 16-bit major and a 16-bit minor number in one u32. */

export function makeHandle(major: number, minor: number): number {
  return ((major << 16) | minor) >>> 0;
}

/** As tc prints them: "1:", "ffff:", "1:1", "root", "ingress". */
export function formatHandle(handle: number): string {
  if (handle === TC_H_ROOT) return "root";
  if (handle === TC_H_INGRESS) return "ingress";
  const major = (handle >>> 16).toString(16);
  const minor = handle & 0xffff;
  return minor === 0 ? `${major}:` : `${major}:${minor.toString(16)}`;
}
