import { describe, expect, it } from "vitest";
import { NetlinkError, isExists, isNotFound, isNotSupported } from "../../../lib/netlink/errors.ts";

describe("NetlinkError", () => {
  it("names the operation, the errno with its text and the kernel's message", () => {
    const error = new NetlinkError("create link br0 (bridge)", 95, "some explanation");
    expect(error.message).toBe("create link br0 (bridge): EOPNOTSUPP (Operation not supported): some explanation");
    expect(error).toMatchObject({ name: "NetlinkError", errno: 95, errnoName: "EOPNOTSUPP", extack: "some explanation" });
  });

  it("reads without an extended ack", () => {
    expect(new NetlinkError("add address 10.1.0.5/24 to eth0", 17).message).toBe(
      "add address 10.1.0.5/24 to eth0: EEXIST (File exists)",
    );
  });

  it("says which feature the kernel lacks", () => {
    const error = new NetlinkError("create link vl0 (vlan on eth0)", 95, "Unknown device type").asMissingFeature("vlan");
    expect(error.message).toBe("create link vl0 (vlan on eth0): kernel lacks vlan support (EOPNOTSUPP: Unknown device type)");
    expect(error.missingFeature).toBe("vlan");
  });

  it("names errnos it has no text for by number", () => {
    expect(new NetlinkError("x", 200).message).toBe("x: errno 200 (unknown error)");
  });
});

describe("error classification", () => {
  it.each([
    [19, "ENODEV"],
    [2, "ENOENT"],
    [3, "ESRCH"],
    [99, "EADDRNOTAVAIL"],
  ])("errno %i (%s) is not-found", (errno) => {
    expect(isNotFound(new NetlinkError("x", errno))).toBe(true);
    expect(isExists(new NetlinkError("x", errno))).toBe(false);
  });

  it("EEXIST is exists", () => {
    expect(isExists(new NetlinkError("x", 17))).toBe(true);
    expect(isNotFound(new NetlinkError("x", 17))).toBe(false);
  });

  it("EOPNOTSUPP is not-supported", () => {
    expect(isNotSupported(new NetlinkError("x", 95))).toBe(true);
    expect(isNotSupported(new NetlinkError("x", 22))).toBe(false);
  });

  it("other errors are none of these", () => {
    expect(isNotFound(new Error("ENODEV"))).toBe(false);
    expect(isExists(undefined)).toBe(false);
  });
});
