import { describe, expect, it } from "vitest";
import { chooseBackendForTable } from "../../../lib/firewall/backend.ts";
import { FakeExecutor } from "./fake-executor.ts";

const NAT = "*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n";
const tools = (executor: FakeExecutor) => executor.calls.map((call) => [call.tool, ...call.args].join(" "));

describe("choosing the backend for a feature that reads one iptables table", () => {
  it("uses the configured backend without running anything", () => {
    const executor = new FakeExecutor();
    expect(chooseBackendForTable("nftables", executor, "nat").backend).toBe("nftables");
    expect(chooseBackendForTable("iptables", executor, "nat").backend).toBe("iptables");
    expect(executor.calls).toEqual([]);
  });

  it("takes a successful iptables-save of the table as proof that iptables is usable, without the iptables -S probe", () => {
    const executor = new FakeExecutor({ "iptables-save -t nat": { stdout: NAT } });
    expect(chooseBackendForTable(undefined, executor, "nat").backend).toBe("iptables");
    expect(tools(executor)).toEqual(["iptables-save -t nat"]);
  });

  it("answers the feature's first reading of the table from that proof, and reads afresh after", () => {
    const executor = new FakeExecutor({ "iptables-save -t nat": { stdout: NAT } });
    const chosen = chooseBackendForTable(undefined, executor, "nat");
    expect(chosen.executor.run("iptables-save", ["-t", "nat"]).stdout).toBe(NAT);
    expect(tools(executor)).toEqual(["iptables-save -t nat"]);
    chosen.executor.run("iptables-save", ["-t", "nat"]);
    chosen.executor.run("ip6tables-save", ["-t", "nat"]);
    expect(tools(executor)).toEqual(["iptables-save -t nat", "iptables-save -t nat", "ip6tables-save -t nat"]);
  });

  it("leaves the choice to the probes when the table cannot be read: nftables when only it is usable", () => {
    const executor = new FakeExecutor({
      "iptables-save -t nat": { status: 1, stderr: "iptables-save: no kernel support" },
      iptables: { status: null },
      "nft --version": { stdout: "nftables v1.0.6 (Lester Gooch #5)\n" },
    });
    expect(chooseBackendForTable(undefined, executor, "nat").backend).toBe("nftables");
    expect(tools(executor)).toEqual(["iptables-save -t nat", "iptables -w -t filter -S INPUT 1", "nft --version", "nft --check -f -"]);
  });

  it("stays with iptables, reading afresh, when the table cannot be read but iptables is usable", () => {
    const executor = new FakeExecutor({ "iptables-save -t nat": { status: 1, stderr: "transient" } });
    const chosen = chooseBackendForTable(undefined, executor, "nat");
    expect(chosen.backend).toBe("iptables");
    expect(chosen.executor.run("iptables-save", ["-t", "nat"]).stderr).toBe("transient");
  });
});
