import { describe, expect, it } from "vitest";
import { duplicateKeys } from "../../../plugins/tuning/duplicate-keys.ts";

describe("duplicate JSON keys", () => {
  it("finds none in a document without them", () => {
    expect(duplicateKeys('{"a": 1, "b": {"a": [1, {"a": 2}, "x"]}, "c": "}{\\"", "d": null}')).toEqual([]);
  });

  it("names each key given twice in one object by its path", () => {
    const text = '{ "name": "n", "sysctl": { "net.core.somaxconn": "1", "net.core.somaxconn" : "2" }, "name": "m" }';
    expect(duplicateKeys(text)).toEqual([["sysctl", "net.core.somaxconn"], ["name"]]);
  });

  it("looks inside arrays and reads escaped keys as JSON does", () => {
    expect(duplicateKeys('[{"k\\u0061": 1, "ka": 2}, [true, false]]')).toEqual([["0", "ka"]]);
  });

  it("does not count a key that repeats in different objects", () => {
    expect(duplicateKeys('{"a": {"x": 1}, "b": {"x": 1}}')).toEqual([]);
  });
});
