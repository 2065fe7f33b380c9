import { describe, expect, it } from "vitest";
import { RTM_NEWRULE } from "../../../lib/netlink/constants.ts";
import { encodeRequest } from "../../../lib/netlink/message.ts";
import { addRuleRequest, decodeRule, deleteRuleRequest } from "../../../lib/netlink/rule.ts";
import { expectSameBytesAsIproute2, hex, kernelMessages } from "./fixtures.ts";

describe("rules encode what `ip rule` sends", () => {
  it("from a source to a table that fits the header", () => {
    expectSameBytesAsIproute2(addRuleRequest({ family: 4, src: "10.1.0.5/32", table: 100, priority: 1000 }), "rule");
  });

  it("to a destination with input and output interfaces, to a table above 255", () => {
    const req = addRuleRequest({ family: 4, dst: "10.2.0.0/16", iif: "vv", oif: "vp", table: 1000, priority: 1001 });
    expectSameBytesAsIproute2(req, "rule2");
  });

  it("a deletion", () => {
    expectSameBytesAsIproute2(deleteRuleRequest({ family: 4, src: "10.1.0.5/32", table: 100, priority: 1000 }), "ruledel");
  });

  it("an IPv6 rule, a bare address meaning a /128", () => {
    const req = addRuleRequest({ family: 6, src: "fd00::5", table: 100 });
    expect(hex(encodeRequest(req, 1)).slice(32)).toBe(
      "0a008000" + "64000001" + "00000000" + "14000200fd000000000000000000000000000005",
    );
  });

  it("refuse a prefix of the other family", () => {
    expect(() => addRuleRequest({ family: 6, src: "10.1.0.5/32", table: 100 })).toThrow("rule src 10.1.0.5/32 is not an IPv6 prefix");
  });
});

describe("decoding a kernel rule dump", () => {
  const rules = (name: string) =>
    kernelMessages(name)
      .filter((m) => m.type === RTM_NEWRULE)
      .map(decodeRule);

  it("reads the default rules and added ones, in priority order", () => {
    expect(rules("rules4-dump")).toEqual([
      { family: 4, priority: 0, table: 255 },
      { family: 4, priority: 1000, table: 100, src: "10.1.0.5/32" },
      { family: 4, priority: 1001, table: 1000, dst: "10.2.0.0/16", iif: "veth0", oif: "br0" },
      { family: 4, priority: 32766, table: 254 },
      { family: 4, priority: 32767, table: 253 },
    ]);
  });

  it("reads IPv6 rules", () => {
    expect(rules("rules6-dump")).toContainEqual({ family: 6, priority: 1000, table: 100, src: "fd00::5/128" });
  });
});
