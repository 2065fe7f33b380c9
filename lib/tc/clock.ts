import { readFileSync } from "node:fs";

/**
 * The packet scheduler's clock: tbf takes its buffer in "ticks", whose length the kernel
 * publishes in /proc/net/psched. iproute2 and the reference's netlink library derive the ticks
 * per microsecond from that file in the same way; so does this.
 */
export interface PschedClock {
  readonly ticksPerMicrosecond: number;
}

export const PSCHED_PATH = "/proc/net/psched";

export class PschedError extends Error {
  override readonly name = "PschedError";
  /** CNI's code for a failed kernel operation (lib/core ErrorCode.KernelOperationFailed). */
  readonly cniCode = 100;
}

/**
 * Parses the four hex words of /proc/net/psched: microseconds-to-ticks numerator and
 * denominator, clock resolution and HZ. A resolution of 1 GHz means the old (pre-2.6.24)
 * meaning of the first word, which is then replaced by the second.
 */
export function parsePsched(text: string): PschedClock {
  const words = text.trim().split(/\s+/);
  const values = words.slice(0, 4).map((word) => (/^[0-9a-fA-F]{1,8}$/.test(word) ? parseInt(word, 16) : NaN));
  if (values.length < 4 || values.some(Number.isNaN) || values[1] === 0) {
    throw new PschedError(`${PSCHED_PATH} does not hold four hex numbers: "${text.trim()}"`);
  }
  const [numerator, denominator, resolution] = values as [number, number, number];
  const clockFactor = resolution / 1_000_000;
  const t2us = resolution === 1_000_000_000 ? denominator : numerator;
  // Same operation order as the reference (numerator / denominator * factor): the float result
  // must be bit-identical for tick counts to agree.
  return { ticksPerMicrosecond: (t2us / denominator) * clockFactor };
}

export function readPschedClock(path = PSCHED_PATH): PschedClock {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PschedError(`cannot read the packet scheduler clock from ${path}: ${(error as Error).message}`);
  }
  return parsePsched(text);
}
