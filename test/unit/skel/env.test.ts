import { describe, expect, it } from "vitest";
import { parseInvocation } from "../../../lib/skel/env.ts";
import { CniError, ErrorCode } from "../../../lib/core/index.ts";

const attachment = { CNI_CONTAINERID: "abc-1", CNI_NETNS: "/run/netns/x", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin" };

function errorOf(fn: () => unknown): CniError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CniError) return error;
    throw error;
  }
  throw new Error("expected a CniError");
}

describe("CNI environment parsing", () => {
  it("reads an ADD with every required variable", () => {
    expect(parseInvocation({ CNI_COMMAND: "ADD", ...attachment, CNI_ARGS: "A=b" })).toEqual({
      command: "ADD",
      containerId: "abc-1",
      netns: "/run/netns/x",
      ifname: "eth0",
      args: "A=b",
      path: ["/opt/cni/bin"],
    });
  });

  it("names every missing variable with code 4", () => {
    const error = errorOf(() => parseInvocation({ CNI_COMMAND: "ADD", CNI_PATH: "/x" }));
    expect(error.code).toBe(ErrorCode.InvalidEnvironment);
    expect(error.message).toContain("CNI_CONTAINERID");
    expect(error.message).toContain("CNI_NETNS");
    expect(error.message).toContain("CNI_IFNAME");
  });

  it("lets DEL go without CNI_NETNS, as the spec allows", () => {
    const { CNI_NETNS: _, ...withoutNetns } = attachment;
    expect(parseInvocation({ CNI_COMMAND: "DEL", ...withoutNetns })).toMatchObject({ command: "DEL", netns: "" });
  });

  it("rejects an unset and an unknown CNI_COMMAND naming the variable", () => {
    expect(errorOf(() => parseInvocation({})).message).toContain("CNI_COMMAND");
    const unknown = errorOf(() => parseInvocation({ CNI_COMMAND: "FROB" }));
    expect(unknown.code).toBe(ErrorCode.InvalidEnvironment);
    expect(unknown.message).toContain("FROB");
  });

  it.each(["-abc", "a b", "a/b", "ab$", ""])("rejects container ID %j", (id) => {
    const error = errorOf(() => parseInvocation({ CNI_COMMAND: "ADD", ...attachment, CNI_CONTAINERID: id }));
    expect(error.code).toBe(ErrorCode.InvalidEnvironment);
    expect(error.message).toContain("CNI_CONTAINERID");
  });

  it.each(["a", "eth0", "A_b.c-1", "0123456789abcdef0123"])("accepts container ID %j", (id) => {
    expect(parseInvocation({ CNI_COMMAND: "DEL", ...attachment, CNI_CONTAINERID: id })).toMatchObject({ containerId: id });
  });

  it.each([
    ["a-sixteen-bytes!", "longer than 15 bytes"],
    [".", "not allowed"],
    ["..", "not allowed"],
    ["eth/0", "contains"],
    ["eth:0", "contains"],
    ["eth 0", "contains"],
    ["eth\t0", "contains"],
    ["ééééééé¡", "longer than 15 bytes"],
  ])("rejects interface name %j", (ifname, reason) => {
    const error = errorOf(() => parseInvocation({ CNI_COMMAND: "ADD", ...attachment, CNI_IFNAME: ifname }));
    expect(error.code).toBe(ErrorCode.InvalidEnvironment);
    expect(error.message).toContain("CNI_IFNAME");
    expect(error.message).toContain(reason);
  });

  it("accepts a 15-byte interface name", () => {
    expect(parseInvocation({ CNI_COMMAND: "ADD", ...attachment, CNI_IFNAME: "abcdefghijklmno" })).toMatchObject({
      ifname: "abcdefghijklmno",
    });
  });

  it("needs only CNI_COMMAND for VERSION and STATUS, and CNI_PATH for GC", () => {
    expect(parseInvocation({ CNI_COMMAND: "VERSION" })).toEqual({ command: "VERSION" });
    expect(parseInvocation({ CNI_COMMAND: "STATUS" })).toEqual({ command: "STATUS", path: [] });
    expect(errorOf(() => parseInvocation({ CNI_COMMAND: "GC" })).message).toContain("CNI_PATH");
    expect(parseInvocation({ CNI_COMMAND: "GC", CNI_PATH: "/a:/b" })).toEqual({ command: "GC", path: ["/a", "/b"] });
  });
});
