import { describe, expect, it } from "vitest";
import { parseResolvConf } from "../../../lib/ipam/index.ts";

describe("resolv.conf as the result's dns", () => {
  it("reads nameservers, the last domain, and all search and options words, as the reference does", () => {
    const text = [
      "# a comment",
      "; another comment",
      "nameserver 1.1.1.1",
      "  nameserver   8.8.8.8  trailing  ",
      "search a.example b.example",
      "search c.example",
      "domain first.example",
      "domain last.example",
      "options ndots:2 rotate",
      "options",
      "sortlist 10.0.0.0/8",
      "",
      "nameserver\tfd00::53\r",
    ].join("\n");
    expect(parseResolvConf(text)).toEqual({
      nameservers: ["1.1.1.1", "8.8.8.8", "fd00::53"],
      domain: "last.example",
      search: ["a.example", "b.example", "c.example"],
      options: ["ndots:2", "rotate"],
    });
  });

  it("gives an empty dns for an empty file", () => {
    expect(parseResolvConf("")).toEqual({});
  });
});
