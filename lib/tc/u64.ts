import { dataView, HOST_LITTLE_ENDIAN } from "../netlink/index.ts";

/** 64-bit attribute payloads (TCA_TBF_RATE64) as numbers; rates never come near 2^53. */

export function u64Bytes(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  dataView(bytes).setBigUint64(0, BigInt(value), HOST_LITTLE_ENDIAN);
  return bytes;
}

export function readU64(payload: Uint8Array): number {
  if (payload.byteLength < 8) throw new Error(`a 64-bit netlink attribute has ${payload.byteLength} bytes`);
  return Number(dataView(payload).getBigUint64(0, HOST_LITTLE_ENDIAN));
}
