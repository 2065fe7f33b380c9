import { describe, expect, it } from "vitest";
import { CniError, ErrorCode, Failures } from "../../../lib/core/index.ts";

describe("Failures", () => {
  it("runs every step even when earlier ones throw", async () => {
    const failures = new Failures();
    const ran: string[] = [];
    failures.attempt(() => {
      ran.push("a");
      throw new Error("a broke");
    });
    await failures.attemptAsync(async () => {
      ran.push("b");
    });
    await failures.attemptAsync(async () => {
      ran.push("c");
      throw new CniError(ErrorCode.FirewallFailed, "c broke");
    });
    expect(ran).toEqual(["a", "b", "c"]);
    expect(failures.errors.map((error) => error.message)).toEqual(["a broke", "c broke"]);
  });

  it("does not throw when nothing failed", () => {
    const failures = new Failures();
    failures.attempt(() => undefined);
    expect(() => failures.throwIfAny("GC")).not.toThrow();
  });

  it("reports one failure with its code and the context in front", () => {
    const failures = new Failures();
    failures.attempt(() => {
      throw new CniError(ErrorCode.DelegateFailed, "host-local GC: broken");
    });
    expect(() => failures.throwIfAny("GC")).toThrow(expect.objectContaining({ code: ErrorCode.DelegateFailed, message: "GC: host-local GC: broken" }));
  });

  it("reports several failures in one error with the first one's code and every message", () => {
    const failures = new Failures();
    failures.attempt(() => {
      throw new CniError(ErrorCode.FirewallFailed, "iptables broke");
    }, "iptables");
    failures.attempt(() => {
      throw new Error("nft broke");
    }, "nftables");
    expect(() => failures.throwIfAny("teardown")).toThrow(
      expect.objectContaining({ code: ErrorCode.FirewallFailed, message: "teardown: iptables: iptables broke; nftables: nft broke" }),
    );
  });

  it("keeps errors as thrown when no context is given, for callers with their own error types", () => {
    const failures = new Failures();
    const original = new RangeError("out of range");
    failures.attempt(() => {
      throw original;
    });
    expect(failures.errors[0]).toBe(original);
  });
});
