import { decodeResult, encodeResult, isCniVersion, type Result, type WireResult } from "../types/index.ts";

/** A result as the runtime holds it: in the spec version it was written in. */
export interface AttachmentResult {
  /** The version the plugin wrote the result in (libcni does not convert results along a chain). */
  cniVersion: string;
  /** The result in the canonical (1.1.0) shape, for programs. */
  result: Result;
  /** The result in the wire shape of `cniVersion`, as passed on as prevResult and cached. */
  wire: WireResult;
}

/**
 * Reads a result JSON object as libcni's result factories do: its own cniVersion decides the
 * shape, and a result without one is taken to be in `fallbackVersion` (libcni's fix-up for
 * plugins that omit it, containernetworking/cni#895). Throws an Error saying what is wrong.
 */
export function readResult(raw: unknown, fallbackVersion: string): AttachmentResult {
  if (raw === null) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error("the result is not a JSON object");
  const declared = (raw as Record<string, unknown>).cniVersion;
  const cniVersion = typeof declared === "string" && declared !== "" ? declared : fallbackVersion;
  return convertResult(decodeResult(raw, "result"), cniVersion);
}

/** The same result written in another spec version (libcni's GetAsVersion). */
export function convertResult(result: Result, cniVersion: string): AttachmentResult {
  if (!isCniVersion(cniVersion)) throw new Error(`unsupported CNI result version "${cniVersion}"`);
  return { cniVersion, result, wire: encodeResult(result, cniVersion) };
}
