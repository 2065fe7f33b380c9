import { describe, expect, it } from "vitest";
import { marshalLikeGo } from "../../../lib/runtime/go-json.ts";

describe("JSON written as Go writes a map", () => {
  it("sorts keys at every depth and keeps array order", () => {
    expect(marshalLikeGo({ b: 1, a: { z: [3, { y: 1, x: 2 }], c: null } })).toBe('{"a":{"c":null,"z":[3,{"x":2,"y":1}]},"b":1}');
  });

  it("sorts integer-like keys as strings, where JavaScript would put them first", () => {
    expect(marshalLikeGo({ b: 0, "10": 1, "9": 2 })).toBe('{"10":1,"9":2,"b":0}');
  });

  it("escapes <, >, &, U+2028 and U+2029 as Go's encoder does", () => {
    expect(marshalLikeGo({ s: "<a> & \u2028\u2029" })).toBe('{"s":"\\u003ca\\u003e \\u0026 \\u2028\\u2029"}');
  });

  it("leaves out undefined members, as they cannot come from JSON", () => {
    expect(marshalLikeGo({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
  });
});
