import { describe, expect, it } from "vitest";
import { parseFirewallConfig } from "../../../plugins/firewall/config.ts";

const base = { cniVersion: "1.0.0", name: "net", type: "firewall" };
function settings(extra: Record<string, unknown>) {
  const { backend, adminChain, firewalldZone, ingressPolicy } = parseFirewallConfig({ ...base, ...extra });
  return { backend, adminChain, firewalldZone, ingressPolicy };
}

describe("firewall configuration", () => {
  it("defaults as the reference: backend chosen at run time, CNI-ADMIN, zone trusted, ingress open", () => {
    expect(settings({})).toEqual({ backend: undefined, adminChain: "CNI-ADMIN", firewalldZone: "trusted", ingressPolicy: "open" });
  });

  it('takes "" and null as unset, as the reference\'s Go strings do', () => {
    const unset = { backend: "", iptablesAdminChainName: "", firewalldZone: null, ingressPolicy: "" };
    expect(settings(unset)).toEqual(settings({}));
  });

  it("keeps every configured value", () => {
    expect(settings({ backend: "firewalld", iptablesAdminChainName: "MY-ADMIN", firewalldZone: "internal", ingressPolicy: "isolated" })).toEqual({
      backend: "firewalld",
      adminChain: "MY-ADMIN",
      firewalldZone: "internal",
      ingressPolicy: "isolated",
    });
    expect(settings({ backend: "iptables", ingressPolicy: "same-bridge" })).toMatchObject({ backend: "iptables", ingressPolicy: "same-bridge" });
  });

  it.each([
    [{ backend: "nftables" }, 'backend="nftables": must be one of "iptables", "firewalld"'],
    [{ ingressPolicy: "closed" }, 'ingressPolicy="closed": must be one of "open", "same-bridge", "isolated"'],
    [{ iptablesAdminChainName: "A-VERY-LONG-ADMIN-CHAIN-NAME-X" }, "iptablesAdminChainName=\"A-VERY-LONG-ADMIN-CHAIN-NAME-X\": an iptables chain name is at most 28 characters"],
    [{ iptablesAdminChainName: "MY ADMIN" }, 'iptablesAdminChainName="MY ADMIN": must be an iptables chain name'],
    [{ iptablesAdminChainName: "-j" }, 'iptablesAdminChainName="-j": must be an iptables chain name'],
    [{ iptablesAdminChainName: "CNI-FORWARD" }, 'iptablesAdminChainName="CNI-FORWARD": must not be CNI-FORWARD or FORWARD'],
    [{ firewalldZone: "my zone" }, 'firewalldZone="my zone": must be a firewalld zone name'],
    [{ backend: 7 }, "backend=7"],
  ])("refuses %j with code 7 naming the field and value", (extra, message) => {
    expect(() => parseFirewallConfig({ ...base, ...extra })).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(message) }));
  });
});
