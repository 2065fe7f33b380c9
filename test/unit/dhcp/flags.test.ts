import { describe, expect, it } from "vitest";
import { FlagError, parseDaemonFlags, parseDuration } from "../../../lib/dhcp/flags.ts";

describe("dhcp daemon flags, read as Go's flag package reads them", () => {
  it("has the reference's defaults", () => {
    expect(parseDaemonFlags([])).toEqual({ pidfile: "", hostprefix: "", socketpath: "", broadcast: false, timeoutMs: 10_000, resendMaxMs: 62_000, resendTimeoutMs: 208_000 });
  });

  it("takes values after the flag or after '=', with one or two dashes", () => {
    expect(parseDaemonFlags(["-socketpath", "/run/x.sock", "--pidfile=/run/x.pid", "-timeout=3s", "--resendmax", "1m2s", "-resendtimeout", "1.5m"])).toMatchObject({
      socketpath: "/run/x.sock",
      pidfile: "/run/x.pid",
      timeoutMs: 3000,
      resendMaxMs: 62_000,
      resendTimeoutMs: 90_000,
    });
  });

  it("reads booleans without a value, or with one of Go's spellings", () => {
    expect(parseDaemonFlags(["-broadcast"]).valueOf()).toMatchObject({ broadcast: true });
    expect(parseDaemonFlags(["-broadcast=false"])).toMatchObject({ broadcast: false });
    expect(parseDaemonFlags(["--broadcast=T"])).toMatchObject({ broadcast: true });
    expect(() => parseDaemonFlags(["-broadcast=yes"])).toThrow(FlagError);
  });

  it("stops at the first argument that is not a flag, and answers -h with help", () => {
    expect(parseDaemonFlags(["-timeout", "1s", "extra", "-bogus"])).toMatchObject({ timeoutMs: 1000 });
    expect(parseDaemonFlags(["-h"])).toBe("help");
    expect(parseDaemonFlags(["--help"])).toBe("help");
  });

  it("refuses unknown flags and missing values as Go does", () => {
    expect(() => parseDaemonFlags(["-bogus"])).toThrow("flag provided but not defined: -bogus");
    expect(() => parseDaemonFlags(["-socketpath"])).toThrow("flag needs an argument: -socketpath");
  });
});

describe("Go durations", () => {
  it("reads every unit and combinations", () => {
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("300ms")).toBe(300);
    expect(parseDuration("1h2m3s")).toBe(3_723_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2000us")).toBe(2);
    expect(parseDuration("+10s")).toBe(10_000);
  });

  it("refuses what time.ParseDuration refuses, and negative durations", () => {
    for (const text of ["", "10", "s", "1x", "1.s2", "5 s", "."]) expect(() => parseDuration(text), text).toThrow(FlagError);
    expect(() => parseDuration("-1s")).toThrow("cannot be negative");
  });
});
