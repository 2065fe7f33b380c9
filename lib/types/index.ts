export * from "./result.ts";
export * from "./version.ts";
export { decodeResult, encodeResult, ipFamilyOf, type WireResult } from "./convert.ts";
