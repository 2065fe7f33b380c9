import { describe, expect, it } from "vitest";
import { generateSchemas, staleSchemas } from "../../scripts/schemas/generate.ts";
import { pluginLoaders } from "../../plugins/index.ts";

describe("schemas/", () => {
  it("holds an up-to-date JSON Schema for every plugin (run npm run schemas when this fails)", async () => {
    const schemas = await generateSchemas();
    expect([...schemas.keys()].sort()).toEqual(Object.keys(pluginLoaders).sort());
    expect(staleSchemas(schemas)).toEqual([]);
  });
});
