import { describe, expect, it } from "vitest";
import { PschedError, parsePsched, readPschedClock } from "../../../lib/tc/clock.ts";
import { tbfBurstBytes, tbfParameters } from "../../../lib/tc/tbf.ts";

const clock = { ticksPerMicrosecond: 15.625 };
const latencyUs = 25_000;

describe("the psched clock", () => {
  it("is 15.625 ticks per microsecond with the modern /proc/net/psched", () => {
    expect(parsePsched("000003e8 00000040 000f4240 3b9aca00\n")).toEqual({ ticksPerMicrosecond: 15.625 });
  });

  it("reads the old form (1 GHz resolution) as the reference's netlink library does", () => {
    expect(parsePsched("00000001 00000001 3b9aca00 000003e8")).toEqual({ ticksPerMicrosecond: 1000 });
  });

  it("is read from this kernel", () => {
    expect(readPschedClock().ticksPerMicrosecond).toBeGreaterThan(0);
  });

  it("refuses text that is not four hex numbers, naming the file", () => {
    expect(() => parsePsched("garbage")).toThrow(PschedError);
    expect(() => parsePsched("000003e8 00000000 000f4240 3b9aca00")).toThrow(/\/proc\/net\/psched does not hold four hex numbers/);
  });

  it("reports an unreadable file with CNI code 100", () => {
    const error = (() => {
      try {
        readPschedClock("/nonexistent/psched");
      } catch (caught) {
        return caught as PschedError;
      }
    })();
    expect(error?.message).toMatch(/cannot read the packet scheduler clock from \/nonexistent\/psched/);
    expect(error?.cniCode).toBe(100);
  });
});

describe("tbf parameters, computed as the reference computes them", () => {
  it("for 20 Mbit/s with a 400000-bit burst: buffer 20 ms in ticks, limit 25 ms of rate plus the burst", () => {
    expect(tbfParameters({ rateBytes: 2_500_000, burstBytes: 50_000, latencyUs }, clock)).toEqual({
      rate: 2_500_000,
      buffer: 312_500,
      limit: 112_500,
    });
  });

  it("truncate the buffer's microseconds before converting to ticks (30 Mbit/s, 500000-bit burst)", () => {
    expect(tbfParameters({ rateBytes: 3_750_000, burstBytes: 62_500, latencyUs }, clock)).toEqual({
      rate: 3_750_000,
      buffer: 260_406,
      limit: 156_250,
    });
  });

  it("match the reference's own tests: 8000 bit/s with an 80-bit burst has limit 35", () => {
    expect(tbfParameters({ rateBytes: 1000, burstBytes: 10, latencyUs }, clock)).toMatchObject({ rate: 1000, limit: 35 });
  });

  it("match the reference's own tests: 8 bit/s with an 8-bit burst has rate 1 and limit 1", () => {
    expect(tbfParameters({ rateBytes: 1, burstBytes: 1, latencyUs }, clock)).toEqual({ rate: 1, buffer: 15_625_000, limit: 1 });
  });

  it("saturate a buffer longer than 2^32 ticks (the 4294967295-bit burst runtimes send with a 10 Mbit/s rate)", () => {
    const burstBytes = Math.floor(4_294_967_295 / 8);
    expect(tbfParameters({ rateBytes: 1_250_000, burstBytes, latencyUs }, clock)).toEqual({
      rate: 1_250_000,
      buffer: 0xffffffff,
      limit: 31_250 + burstBytes,
    });
  });

  it("saturate a limit beyond 32 bits", () => {
    expect(tbfParameters({ rateBytes: 2 ** 40, burstBytes: 1_000_000, latencyUs }, clock).limit).toBe(0xffffffff);
  });
});

describe("the burst a tbf holds", () => {
  it("is what `tc qdisc show` prints for the reference's qdiscs", () => {
    expect(tbfBurstBytes({ rate: 2_500_000, buffer: 312_500, limit: 112_500 }, clock)).toBe(50_000);
    expect(tbfBurstBytes({ rate: 3_750_000, buffer: 260_406, limit: 156_250 }, clock)).toBe(62_493);
  });
});
