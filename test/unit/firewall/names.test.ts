import { describe, expect, it } from "vitest";
import { formatChainName, formatComment, parseComment } from "../../../lib/firewall/names.ts";

describe("chain names", () => {
  // Expected values computed outside this code: `printf %s "<network><id>" | sha512sum`, and
  // the reference's own test vectors (pkg/utils/utils_test.go).
  it("is CNI- and the first 24 hex digits of sha512(network + container ID)", () => {
    expect(formatChainName("net1", "c1")).toBe("CNI-c2d892b58e87e28a12fe6479");
    expect(formatChainName("mynetwork", "0123456789abcdef")).toBe("CNI-544a26d027daac2450cce108");
    expect(formatChainName("podman", "9f8e7d6c5b4a")).toBe("CNI-5b9759862da3a48b395bdda7");
  });

  it("matches the reference's test vectors", () => {
    expect(formatChainName("test", "1234")).toBe("CNI-2bbe0c48b91a7d1b8a6753a8");
    expect(formatChainName("testalongnamethatdoesnotmakesense", "1234")).toBe("CNI-374f33fe84ab0ed84dcdebe3");
    expect(formatChainName("test", "1234", "PREFIX-")).toBe("CNI-PREFIX-2bbe0c48b91a7d1b8");
  });

  it("puts a prefix after CNI- and stays 28 characters long (portmap's DN- chains)", () => {
    const name = formatChainName("testnet", "dummy-container", "DN-");
    expect(name).toBe("CNI-DN-af15d28d99365d998cf48");
    expect(name).toHaveLength(28);
  });

  it("changes when one character of the container ID changes", () => {
    expect(formatChainName("test", "1234")).not.toBe(formatChainName("test", "1235"));
  });
});

describe("rule comments", () => {
  it("names network and container in Go's quoted form", () => {
    expect(formatComment("net1", "c1")).toBe('name: "net1" id: "c1"');
  });

  it("reads back what formatComment wrote", () => {
    expect(parseComment(formatComment("my-net.v2", "abc_123"))).toEqual({ network: "my-net.v2", containerId: "abc_123" });
  });

  it("does not recognise other comments", () => {
    expect(parseComment('dnat name: "net1" id: "c1"')).toBeUndefined();
    expect(parseComment("CNI firewall plugin rules")).toBeUndefined();
  });
});
