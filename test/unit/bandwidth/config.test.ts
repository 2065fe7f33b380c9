import { describe, expect, it } from "vitest";
import { parseBandwidthConfig, parseBandwidthInput, resolveBandwidth } from "../../../plugins/bandwidth/config.ts";
import { CniError } from "../../../lib/core/index.ts";

const clock = { ticksPerMicrosecond: 15.625 };
const base = { cniVersion: "1.0.0", name: "bwnet", type: "bandwidth" };

function plan(extra: Record<string, unknown>) {
  return resolveBandwidth(parseBandwidthInput({ ...base, ...extra }), clock);
}

/** The CniError a config is refused with (by the schema or by the reference's rules). */
function refusal(extra: Record<string, unknown>): CniError {
  try {
    plan(extra);
  } catch (error) {
    if (error instanceof CniError) return error;
    throw error;
  }
  throw new Error(`config was accepted: ${JSON.stringify(extra)}`);
}

describe("rates and bursts", () => {
  it("become a tbf per direction, in bytes and ticks, with the reference's 25 ms of queue", () => {
    expect(plan({ ingressRate: 20_000_000, ingressBurst: 400_000, egressRate: 30_000_000, egressBurst: 500_000 })).toEqual({
      ingress: { rateField: "ingressRate", rateBits: 20_000_000, burstBits: 400_000, tbf: { rate: 2_500_000, buffer: 312_500, limit: 112_500 } },
      egress: { rateField: "egressRate", rateBits: 30_000_000, burstBits: 500_000, tbf: { rate: 3_750_000, buffer: 260_406, limit: 156_250 } },
    });
  });

  it("shape only the directions with a rate", () => {
    expect(Object.keys(plan({ ingressRate: 0, ingressBurst: 0, egressRate: 8000, egressBurst: 80 }))).toEqual(["egress"]);
    expect(Object.keys(plan({ ingressRate: 8000, ingressBurst: 80 }))).toEqual(["ingress"]);
  });

  it("shape nothing when every value is 0, null or absent", () => {
    expect(plan({})).toEqual({});
    expect(plan({ ingressRate: 0, ingressBurst: null, egressRate: null })).toEqual({});
  });

  it("accept the burst runtimes send for 'no burst limit' (2^32 - 1 bits)", () => {
    expect(plan({ ingressRate: 10_000_000, ingressBurst: 4_294_967_295 }).ingress?.tbf.buffer).toBe(0xffffffff);
  });
});

describe("refused with code 7 naming the field", () => {
  it("a rate without its burst", () => {
    const error = refusal({ ingressRate: 1000 });
    expect(error.code).toBe(7);
    expect(error.message).toBe("invalid config: ingressBurst=(missing): ingressRate is set, so ingressBurst must be set too");
    expect(refusal({ egressRate: 1000, egressBurst: 0 }).message).toMatch(/^invalid config: egressBurst=0: egressRate is set/);
  });

  it("a burst without its rate", () => {
    expect(refusal({ egressBurst: 1000 }).message).toBe(
      "invalid config: egressRate=(missing): egressBurst is set, so egressRate must be set too",
    );
    expect(refusal({ ingressRate: 0, ingressBurst: 123 }).message).toMatch(/^invalid config: ingressRate=0: ingressBurst is set/);
  });

  it("a negative value", () => {
    const error = refusal({ ingressRate: -1, ingressBurst: 1000 });
    expect(error.code).toBe(7);
    expect(error.message).toBe("invalid config: ingressRate=-1: must not be negative");
    expect(refusal({ egressRate: 1000, egressBurst: -8 }).message).toBe("invalid config: egressBurst=-8: must not be negative");
  });

  it("a fraction or a string", () => {
    expect(refusal({ ingressRate: 1.5, ingressBurst: 1000 }).message).toMatch(/^invalid config: ingressRate=1\.5: /);
    expect(refusal({ egressRate: "10M", egressBurst: 1000 }).message).toMatch(/^invalid config: egressRate="10M": /);
  });

  it("a burst of 4 GB (2^32 - 1 bytes) or more, the reference's limit", () => {
    // The reference's own boundary test: 2 bytes under 4 GiB passes, 4 GiB does not.
    expect(plan({ ingressRate: 5000, ingressBurst: 4 * 1024 ** 3 * 8 - 16 }).ingress).toBeDefined();
    expect(plan({ ingressRate: 5000, ingressBurst: 34_359_738_359 }).ingress).toBeDefined();
    const error = refusal({ ingressRate: 5000, ingressBurst: 34_359_738_360 });
    expect(error.code).toBe(7);
    expect(error.message).toBe(
      "invalid config: ingressBurst=34359738360: must be below 34359738360 bits (4 GB): tbf counts the burst in 32-bit bytes",
    );
  });

  it("a value too large to be exact in JSON", () => {
    expect(refusal({ egressRate: 2 ** 60, egressBurst: 1000 }).message).toMatch(/^invalid config: egressRate=\d+: must be at most 9007199254740991/);
  });

  it("a rate or burst below one byte", () => {
    expect(refusal({ ingressRate: 7, ingressBurst: 8 }).message).toBe(
      "invalid config: ingressRate=7: must be at least 8 bits per second: tbf counts whole bytes",
    );
    expect(refusal({ ingressRate: 8, ingressBurst: 7 }).message).toBe("invalid config: ingressBurst=7: must be at least 8 bits: tbf counts whole bytes");
  });

  it("a burst that lasts less than a microsecond at the rate", () => {
    expect(refusal({ egressRate: 16_000_000_000, egressBurst: 8 }).message).toBe(
      "invalid config: egressBurst=8: lasts less than a microsecond at egressRate=16000000000: the kernel would refuse an empty bucket",
    );
  });
});

describe("the bandwidth capability", () => {
  const runtime = { runtimeConfig: { bandwidth: { ingressRate: 8, ingressBurst: 8, egressRate: 16, egressBurst: 9 } } };

  it("is used when the configuration sets none of the four keys", () => {
    const result = plan(runtime);
    expect(result.ingress).toMatchObject({ rateField: "runtimeConfig.bandwidth.ingressRate", tbf: { rate: 1, limit: 1 } });
    expect(result.egress).toMatchObject({ tbf: { rate: 2, limit: 1 } });
  });

  it("gives way to the configuration's own keys, even zeros, as in the reference", () => {
    const error = refusal({ ...runtime, ingressRate: 0, ingressBurst: 123, egressRate: 123, egressBurst: 123 });
    expect(error.message).toMatch(/^invalid config: ingressRate=0: ingressBurst is set/);
    expect(plan({ ...runtime, egressRate: 0 })).toEqual({});
  });

  it("names its own fields in errors", () => {
    expect(refusal({ runtimeConfig: { bandwidth: { egressRate: 1000 } } }).message).toBe(
      "invalid config: runtimeConfig.bandwidth.egressBurst=(missing): egressRate is set, so egressBurst must be set too",
    );
    expect(refusal({ runtimeConfig: { bandwidth: { egressRate: -5, egressBurst: 8 } } }).message).toBe(
      "invalid config: runtimeConfig.bandwidth.egressRate=-5: must not be negative",
    );
  });
});

describe("keys", () => {
  it("match ignoring case, as Go's JSON decoder matches them (the reference's tests write bandWidth)", () => {
    const config = parseBandwidthInput({ ...base, IngressRate: 8000, INGRESSBURST: 80, runtimeconfig: { bandWidth: { EgressRate: 8, egressburst: 8 } } });
    expect(config).toMatchObject({ ingressRate: 8000, ingressBurst: 80, runtimeConfig: { bandwidth: { egressRate: 8, egressBurst: 8 } } });
  });
});

describe("DEL", () => {
  it("reads only the network name, so that a configuration gone invalid cannot block the cleanup", () => {
    const config = parseBandwidthConfig({ ...base, ingressRate: -1, egressBurst: "lots" }, { command: "DEL" });
    expect(config).toEqual({ cniVersion: "1.0.0", name: "bwnet", type: "bandwidth", plan: {} });
  });

  it("still refuses a configuration without a valid network name", () => {
    expect(() => parseBandwidthConfig({ ...base, name: "" }, { command: "DEL" })).toThrow(/^invalid config: name="": /);
  });
});
