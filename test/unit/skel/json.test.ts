import { describe, expect, it } from "vitest";
import { decodeConfig } from "../../../lib/skel/config.ts";
import { CniError } from "../../../lib/core/index.ts";
import { decodeJson, findDuplicateKeys, MAX_JSON_DEPTH, nestingDepth } from "../../../lib/skel/json.ts";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const everywhere = () => true;

function codeOf(work: () => unknown): number | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof CniError ? error.code : -1;
  }
}

describe("decoding untrusted JSON", () => {
  it("accepts nesting up to the reference's limit of 10,000", () => {
    expect(MAX_JSON_DEPTH).toBe(10_000);
    expect(() => decodeJson(`{"x":${nested(MAX_JSON_DEPTH - 1)}}`, "stdin")).not.toThrow();
  });

  it("refuses nesting deeper than 10,000 with code 6, naming what was decoded", () => {
    expect(() => decodeJson(nested(MAX_JSON_DEPTH + 1), "network configuration on stdin")).toThrow(
      /network configuration on stdin is nested more than 10000 levels deep/,
    );
    expect(codeOf(() => decodeJson(nested(MAX_JSON_DEPTH + 1), "stdin"))).toBe(6);
  });

  it("refuses 50,000 levels of objects with code 6 instead of overflowing the stack", () => {
    const text = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    expect(codeOf(() => decodeConfig(Buffer.from(text)))).toBe(6);
  });

  it("counts no brackets inside strings, escaped quotes included", () => {
    expect(nestingDepth('{"a": "[[[{{\\"[[", "b": [1]}')).toBe(2);
  });

  it("answers code 6 for text that is not JSON and 7 for JSON that is not an object", () => {
    expect(codeOf(() => decodeConfig(Buffer.from('{"a":')))).toBe(6);
    expect(codeOf(() => decodeConfig(Buffer.from("[]")))).toBe(7);
  });
});

describe("duplicate JSON keys", () => {
  it("finds none in a document without them", () => {
    expect(findDuplicateKeys('{"a": 1, "b": {"a": [1, {"a": 2}, "x"]}, "c": "}{\\"", "d": null}', everywhere)).toEqual([]);
  });

  it("names each key given twice in one object by its path", () => {
    const text = '{ "name": "n", "sysctl": { "net.core.somaxconn": "1", "net.core.somaxconn" : "2" }, "name": "m" }';
    expect(findDuplicateKeys(text, everywhere)).toEqual([["sysctl", "net.core.somaxconn"], ["name"]]);
  });

  it("looks inside arrays and reads escaped keys as JSON does", () => {
    expect(findDuplicateKeys('[{"k\\u0061": 1, "ka": 2}, [true, false]]', everywhere)).toEqual([["0", "ka"]]);
  });

  it("does not count a key that repeats in different objects", () => {
    expect(findDuplicateKeys('{"a": {"x": 1}, "b": {"x": 1}}', everywhere)).toEqual([]);
  });

  it("looks only into the objects it is asked about", () => {
    const text = '{"sysctl": {"k": 1, "k": 2}, "other": {"k": 1, "k": 2}}';
    expect(findDuplicateKeys(text, (path) => path.length === 0 || path[0] === "sysctl")).toEqual([["sysctl", "k"]]);
  });

  it("scans 50,000 levels of nesting without overflowing the stack", () => {
    const text = `{"sysctl": {"k": 1, "k": 2}, "deep": ${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}`;
    expect(findDuplicateKeys(text, (path) => path.length <= 1)).toEqual([["sysctl", "k"]]);
  });
});
