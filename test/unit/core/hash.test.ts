import { describe, expect, it } from "vitest";
import { hashWithPrefix } from "../../../lib/core/index.ts";

describe("hashWithPrefix", () => {
  // `printf %s abc | sha512sum` starts with ddaf35a193617aba.
  it("puts the prefix before the hex SHA-512 of the text and cuts to the length", () => {
    expect(hashWithPrefix(20, "bwp", "abc")).toBe("bwpddaf35a193617abac");
  });

  it("refuses a prefix that leaves no room for the hash", () => {
    expect(() => hashWithPrefix(10, "0123456789", "x")).toThrow(/cannot fit/);
    expect(() => hashWithPrefix(129, "", "x")).toThrow(/cannot fit/);
  });
});
