import type { PschedClock } from "./clock.ts";

/**
 * The token bucket filter's numbers as the kernel keeps them: what TCA_TBF_PARMS (and, for rates
 * of 2^32 bytes/s and more, TCA_TBF_RATE64) carry and what a dump returns.
 */
export interface TbfParameters {
  /** Bytes per second. */
  readonly rate: number;
  /** How long the full bucket lasts at `rate`, in scheduler ticks (the burst, as a time). */
  readonly buffer: number;
  /** Bytes that may wait in the queue. */
  readonly limit: number;
}

/** What `tc qdisc add ... tbf rate R burst B latency L` asks for, in bytes and microseconds. */
export interface TbfRequest {
  readonly rateBytes: number;
  readonly burstBytes: number;
  readonly latencyUs: number;
}

const MICROSECONDS_PER_SECOND = 1_000_000;
const U32_MAX = 0xffffffff;

/**
 * Computes buffer and limit as iproute2's tc and the reference's netlink library do (in float64,
 * truncating to u32): buffer = ticks(burst / rate), limit = rate * latency + burst. Where the
 * reference's float-to-u32 conversion overflows (a burst that lasts longer than the 2^32 ticks,
 * about 275 s, a u32 buffer can hold), the value saturates at the u32 maximum instead of
 * wrapping around as Go does on amd64: a wrapped buffer can be arbitrarily small.
 */
export function tbfParameters(request: TbfRequest, clock: PschedClock): TbfParameters {
  const { rateBytes, burstBytes, latencyUs } = request;
  const bufferUs = toU32((burstBytes * MICROSECONDS_PER_SECOND) / rateBytes);
  return {
    rate: rateBytes,
    buffer: microsecondsToTicks(bufferUs, clock),
    limit: Math.min(toU32((rateBytes * latencyUs) / MICROSECONDS_PER_SECOND) + burstBytes, U32_MAX),
  };
}

/** The burst in bytes a buffer of ticks holds at the rate, as `tc qdisc show` prints it. */
export function tbfBurstBytes(parameters: TbfParameters, clock: PschedClock): number {
  const bufferUs = toU32(parameters.buffer / clock.ticksPerMicrosecond);
  return toU32((parameters.rate * bufferUs) / MICROSECONDS_PER_SECOND);
}

function microsecondsToTicks(microseconds: number, clock: PschedClock): number {
  return toU32(microseconds * clock.ticksPerMicrosecond);
}

/** C's (and Go's) float-to-u32 conversion for values in range; saturating beyond it. */
function toU32(value: number): number {
  return Math.min(Math.trunc(value), U32_MAX);
}

export function describeTbf(parameters: TbfParameters): string {
  return `rate ${parameters.rate} bytes/s, buffer ${parameters.buffer} ticks, limit ${parameters.limit} bytes`;
}
