import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../lib/core/index.ts";
import { kernelLacks } from "../../../lib/link/index.ts";
import { NetlinkError } from "../../../lib/netlink/index.ts";
import { Errno } from "../../../lib/sys/index.ts";

/** What Rtnetlink.createLink throws when the kernel has no driver for the kind. */
function unknownDeviceType(kind: string): NetlinkError {
  return new NetlinkError(`create link x (${kind} on eth0)`, Errno.EOPNOTSUPP, "Unknown device type", kind);
}

describe("kernelLacks", () => {
  it.each([
    ["vlan", "8021q"],
    ["ipvlan", "ipvlan"],
    ["vrf", "vrf"],
    ["dummy", "dummy"],
  ] as const)("makes a missing %s driver code 2 naming the field, the kind and the %s module", (kind, module) => {
    const error = kernelLacks(unknownDeviceType(kind), kind, "type");
    expect(error).toMatchObject({ code: ErrorCode.UnsupportedField });
    expect(error!.message).toMatch(new RegExp(`^unsupported field type: this kernel cannot create ${kind} links, which need the ${module} module \\(`));
    expect(error!.message).toContain("Unknown device type");
  });

  it("leaves other failures alone: another errno, another kind's missing feature, errors that are not netlink's", () => {
    expect(kernelLacks(new NetlinkError("create link x (vlan on eth0)", Errno.EEXIST), "vlan", "type")).toBeUndefined();
    expect(kernelLacks(unknownDeviceType("bridge VLAN filtering"), "bridge", "type")).toBeUndefined();
    expect(kernelLacks(new Error("boom"), "vlan", "type")).toBeUndefined();
  });
});
