import { describe, expect, it } from "vitest";
import { lazy } from "../../../lib/core/index.ts";

describe("lazy", () => {
  it("builds nothing until first asked, then builds once and keeps the value", () => {
    let builds = 0;
    const value = lazy(() => ({ built: ++builds }));
    expect(builds).toBe(0);
    const first = value();
    expect(value()).toBe(first);
    expect(builds).toBe(1);
  });

  it("keeps an undefined value as built, without building again", () => {
    let builds = 0;
    const value = lazy(() => void builds++);
    expect(value()).toBeUndefined();
    expect(value()).toBeUndefined();
    expect(builds).toBe(1);
  });
});
