import { describe, expect, it } from "vitest";
import { chooseBackend, toolProbes } from "../../../lib/firewall/backend.ts";
import { onEveryBackend } from "../../../lib/firewall/firewall.ts";
import { FakeExecutor } from "./fake-executor.ts";

function probes(iptables: boolean, nftables: boolean) {
  const asked: string[] = [];
  return {
    asked,
    iptablesUsable: () => (asked.push("iptables"), iptables),
    nftablesUsable: () => (asked.push("nftables"), nftables),
  };
}

describe("choosing the backend", () => {
  it("uses the configured backend without probing", () => {
    const p = probes(true, true);
    expect(chooseBackend("nftables", p)).toBe("nftables");
    expect(chooseBackend("iptables", p)).toBe("iptables");
    expect(p.asked).toEqual([]);
  });

  it("prefers iptables when it is usable", () => {
    const p = probes(true, true);
    expect(chooseBackend(undefined, p)).toBe("iptables");
    expect(p.asked).toEqual(["iptables"]);
  });

  it("uses nftables when only nftables is usable", () => {
    expect(chooseBackend(undefined, probes(false, true))).toBe("nftables");
  });

  it("stays with iptables when neither is usable, so its error tells what is missing", () => {
    expect(chooseBackend(undefined, probes(false, false))).toBe("iptables");
  });
});

describe("probing the tools", () => {
  it("counts iptables as usable when it lists a chain, even one that is not there", () => {
    expect(toolProbes(new FakeExecutor({ iptables: { status: 1 } })).iptablesUsable()).toBe(true);
    expect(toolProbes(new FakeExecutor({ iptables: { status: null } })).iptablesUsable()).toBe(false);
  });

  it("counts nft as usable when it is 1.0.1 or later and may add a table", () => {
    const nft = (version: string, check: number) =>
      toolProbes(new FakeExecutor({ "nft --version": { stdout: version }, "nft --check -f -": { status: check } })).nftablesUsable();
    expect(nft("nftables v1.0.6 (Lester Gooch #5)\n", 0)).toBe(true);
    expect(nft("nftables v1.0.0 (Fearless Fosdick #2)\n", 0)).toBe(false);
    expect(nft("nftables v0.9.8 (E.D.S.)\n", 0)).toBe(false);
    expect(nft("nftables v1.0.6 (Lester Gooch #5)\n", 1)).toBe(false);
  });
});

describe("work on every backend (teardown, GC)", () => {
  const failing = (message: string) => () => {
    throw new Error(message);
  };

  it("ignores the failure of a backend that is not usable here", () => {
    const executor = new FakeExecutor({ iptables: { status: null }, "nft --version": { status: null } });
    expect(() => onEveryBackend("removing", { executor }, failing("boom"))).not.toThrow();
  });

  it("reports the failure of a usable backend, naming it", () => {
    const executor = new FakeExecutor({ "nft --version": { status: null } });
    expect(() => onEveryBackend("removing", { executor }, (firewall) => {
      if (firewall.backend === "iptables") throw new Error("boom");
    })).toThrow("removing: iptables: boom");
  });

  it("runs every backend even when the first fails", () => {
    const seen: string[] = [];
    const executor = new FakeExecutor({ "nft --version": { stdout: "nftables v1.0.6\n" } });
    expect(() =>
      onEveryBackend("removing", { executor }, (firewall) => {
        seen.push(firewall.backend);
        throw new Error(`${firewall.backend} broke`);
      }),
    ).toThrow(expect.objectContaining({ code: 101, message: "removing: iptables: iptables broke; nftables: nftables broke" }));
    expect(seen).toEqual(["iptables", "nftables"]);
  });
});
