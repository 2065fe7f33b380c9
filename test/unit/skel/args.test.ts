import { describe, expect, it } from "vitest";
import { CniArgs } from "../../../lib/skel/args.ts";
import { ErrorCode } from "../../../lib/core/index.ts";

describe("CNI_ARGS", () => {
  it("parses KEY=VALUE pairs separated by semicolons", () => {
    const args = CniArgs.parse("IP=10.0.0.5;K8S_POD_NAME=web");
    expect(args.get("IP")).toBe("10.0.0.5");
    expect(args.get("K8S_POD_NAME")).toBe("web");
    expect(args.text).toBe("IP=10.0.0.5;K8S_POD_NAME=web");
  });

  it("rejects a pair without exactly one '=' with code 4", () => {
    expect(() => CniArgs.parse("IP")).toThrow(expect.objectContaining({ code: ErrorCode.InvalidEnvironment }));
    expect(() => CniArgs.parse("A=b=c")).toThrow(/CNI_ARGS/);
  });

  it("rejects unknown keys unless IgnoreUnknown is set", () => {
    expect(() => CniArgs.parse("FOO=1").requireKnown(["IP"])).toThrow(/unknown keys FOO/);
    expect(() => CniArgs.parse("FOO=1;IgnoreUnknown=1").requireKnown(["IP"])).not.toThrow();
    expect(() => CniArgs.parse("FOO=1;IgnoreUnknown=true").requireKnown(["IP"])).not.toThrow();
    expect(() => CniArgs.parse("IP=1").requireKnown(["IP"])).not.toThrow();
  });
});
