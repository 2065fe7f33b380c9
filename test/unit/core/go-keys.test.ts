import { describe, expect, it } from "vitest";
import { z } from "zod";
import { foldKeysToSchema, parseWithSchema } from "../../../lib/core/index.ts";

const schema = z.looseObject({
  cniVersion: z.string(),
  isGateway: z.boolean().default(false),
  ipam: z
    .looseObject({
      rangeStart: z.string().optional(),
      ranges: z.array(z.array(z.object({ subnet: z.string() }))).nullish(),
    })
    .optional(),
  sysctl: z.record(z.string(), z.string()).optional(),
});

describe("Go-style key matching", () => {
  it("renames keys that match a schema key ignoring case, at every depth", () => {
    expect(
      foldKeysToSchema(schema, { CNIVersion: "1.0.0", isgateway: true, IPAM: { RangeStart: "10.0.0.5", RANGES: [[{ Subnet: "10.0.0.0/24" }]] } }),
    ).toEqual({ cniVersion: "1.0.0", isGateway: true, ipam: { rangeStart: "10.0.0.5", ranges: [[{ subnet: "10.0.0.0/24" }]] } });
  });

  it("keeps keys the schema does not know, and record keys, as written", () => {
    expect(foldKeysToSchema(schema, { cniVersion: "1.0.0", Extra: 1, sysctl: { "Net.Core.X": "1" } })).toEqual({
      cniVersion: "1.0.0",
      Extra: 1,
      sysctl: { "Net.Core.X": "1" },
    });
  });

  it("lets the later of two keys for one field win, exact spelling or not, as Go does", () => {
    expect(foldKeysToSchema(schema, { ISGATEWAY: false, isGateway: true })).toEqual({ isGateway: true });
    expect(foldKeysToSchema(schema, { isGateway: true, ISGATEWAY: false })).toEqual({ isGateway: false });
  });

  it("is applied by parseWithSchema", () => {
    expect(parseWithSchema(schema, { CniVersion: "1.1.0", IsGateway: true })).toMatchObject({ cniVersion: "1.1.0", isGateway: true });
  });
});
