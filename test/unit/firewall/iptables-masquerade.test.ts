import { describe, expect, it } from "vitest";
import { parseInterfaceAddresses } from "../../../lib/firewall/address.ts";
import { parseIptablesSave } from "../../../lib/firewall/iptables/save.ts";
import {
  iptablesMasquerade,
  masqueradeChain,
  masqueradeChainOwner,
  masqueradeSetupScript,
  masqueradeTeardownScript,
} from "../../../lib/firewall/masquerade/iptables.ts";
import { formatChainName } from "../../../lib/firewall/names.ts";
import { FakeExecutor } from "./fake-executor.ts";

const EMPTY_NAT = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n";
const attachment = { network: "net1", containerId: "c1", ifname: "eth0" };
const CHAIN = "CNI-c2d892b58e87e28a12fe6479"; // formatChainName("net1", "c1"), see names.test.ts
const C = '"name: \\"net1\\" id: \\"c1\\""';

function setupText(addresses: string[], saved = EMPTY_NAT): string {
  const chain = masqueradeChain(attachment, parseInterfaceAddresses(addresses));
  return masqueradeSetupScript(parseIptablesSave(saved, "nat"), chain).text();
}

describe("iptables masquerading scripts", () => {
  it("sets up an IPv4 address as the reference does", () => {
    expect(setupText(["10.1.2.3/24"])).toBe(
      [
        "*nat",
        `:${CHAIN} - [0:0]`,
        `-A ${CHAIN} -d 10.1.2.0/24 -m comment --comment ${C} -j ACCEPT`,
        `-A ${CHAIN} ! -d 224.0.0.0/4 -m comment --comment ${C} -j MASQUERADE`,
        `-A POSTROUTING -s 10.1.2.3/32 -m comment --comment ${C} -j ${CHAIN}`,
        "COMMIT",
        "",
      ].join("\n"),
    );
  });

  it("sets up an IPv6 address with the IPv6 multicast range", () => {
    expect(setupText(["fd00:0:0:7::3/64"])).toBe(
      [
        "*nat",
        `:${CHAIN} - [0:0]`,
        `-A ${CHAIN} -d fd00:0:0:7::/64 -m comment --comment ${C} -j ACCEPT`,
        `-A ${CHAIN} ! -d ff00::/8 -m comment --comment ${C} -j MASQUERADE`,
        `-A POSTROUTING -s fd00:0:0:7::3/128 -m comment --comment ${C} -j ${CHAIN}`,
        "COMMIT",
        "",
      ].join("\n"),
    );
  });

  it("orders two addresses of one family as the reference's append-unless-present does", () => {
    expect(setupText(["10.1.2.3/24", "10.7.0.9/16"])).toBe(
      [
        "*nat",
        `:${CHAIN} - [0:0]`,
        `-A ${CHAIN} -d 10.1.2.0/24 -m comment --comment ${C} -j ACCEPT`,
        `-A ${CHAIN} ! -d 224.0.0.0/4 -m comment --comment ${C} -j MASQUERADE`,
        `-A ${CHAIN} -d 10.7.0.0/16 -m comment --comment ${C} -j ACCEPT`,
        `-A POSTROUTING -s 10.1.2.3/32 -m comment --comment ${C} -j ${CHAIN}`,
        `-A POSTROUTING -s 10.7.0.9/32 -m comment --comment ${C} -j ${CHAIN}`,
        "COMMIT",
        "",
      ].join("\n"),
    );
  });

  it("rewrites a tampered chain but does not add a second jump", () => {
    const saved = [
      "*nat",
      ":POSTROUTING ACCEPT [0:0]",
      `:${CHAIN} - [0:0]`,
      `-A POSTROUTING -s 10.1.2.3/32 -m comment --comment ${C} -j ${CHAIN}`,
      `-A ${CHAIN} ! -d 224.0.0.0/4 -m comment --comment ${C} -j MASQUERADE`,
      "COMMIT",
    ].join("\n");
    expect(setupText(["10.1.2.3/24"], saved)).toBe(
      [
        "*nat",
        `:${CHAIN} - [0:0]`,
        `-A ${CHAIN} -d 10.1.2.0/24 -m comment --comment ${C} -j ACCEPT`,
        `-A ${CHAIN} ! -d 224.0.0.0/4 -m comment --comment ${C} -j MASQUERADE`,
        "COMMIT",
        "",
      ].join("\n"),
    );
  });

  it("tears down the jump (in any form), the chain's rules and the chain", () => {
    const saved = [
      "*nat",
      ":POSTROUTING ACCEPT [0:0]",
      `:${CHAIN} - [0:0]`,
      `-A POSTROUTING -s 10.1.2.3/32 -m comment --comment ${C} -j ${CHAIN}`,
      `-A POSTROUTING -s 10.1.2.0/24 -m comment --comment ${C} -j ${CHAIN}`,
      `-A ${CHAIN} -d 10.1.2.0/24 -m comment --comment ${C} -j ACCEPT`,
      "COMMIT",
    ].join("\n");
    expect(masqueradeTeardownScript(parseIptablesSave(saved, "nat"), CHAIN).text()).toBe(
      [
        "*nat",
        `-D POSTROUTING -s 10.1.2.3/32 -m comment --comment ${C} -j ${CHAIN}`,
        `-D POSTROUTING -s 10.1.2.0/24 -m comment --comment ${C} -j ${CHAIN}`,
        `-F ${CHAIN}`,
        `-X ${CHAIN}`,
        "COMMIT",
        "",
      ].join("\n"),
    );
  });
});

describe("iptables masquerading with the tools", () => {
  it("lists and restores each family of the addresses once", () => {
    const executor = new FakeExecutor({ "iptables-save": { stdout: EMPTY_NAT }, "ip6tables-save": { stdout: EMPTY_NAT } });
    iptablesMasquerade(executor).setup({ ...attachment, addresses: ["10.1.2.3/24", "fd00::3/64"] });
    expect(executor.calls.map((call) => [call.tool, ...call.args].join(" "))).toEqual([
      "iptables-save -t nat",
      "iptables-restore -w 30 --noflush",
      "ip6tables-save -t nat",
      "ip6tables-restore -w 30 --noflush",
    ]);
  });

  it("runs no restore on teardown when nothing is there", () => {
    const executor = new FakeExecutor({ "iptables-save": { stdout: EMPTY_NAT }, "ip6tables-save": { stdout: EMPTY_NAT } });
    iptablesMasquerade(executor).teardown(attachment);
    expect(executor.scripts("iptables-restore")).toEqual([]);
    expect(executor.scripts("ip6tables-restore")).toEqual([]);
  });

  it("skips a family it cannot list on teardown unless it has addresses of it", () => {
    const executor = new FakeExecutor({
      "iptables-save": { stdout: EMPTY_NAT },
      "ip6tables-save": { status: 1, stderr: "ip6tables-save: Address family not supported by protocol" },
    });
    const masquerade = iptablesMasquerade(executor);
    expect(() => masquerade.teardown(attachment)).not.toThrow();
    expect(() => masquerade.teardown({ ...attachment, addresses: ["fd00::3/64"] })).toThrow(
      expect.objectContaining({ code: 101, message: expect.stringContaining("Address family not supported") }),
    );
  });

  it("fails CHECK with code 104 naming the missing chain per family", () => {
    const executor = new FakeExecutor({ "iptables-save": { stdout: EMPTY_NAT }, "ip6tables-save": { stdout: EMPTY_NAT } });
    expect(() => iptablesMasquerade(executor).check({ ...attachment, addresses: ["10.1.2.3/24", "fd00::3/64"] })).toThrow(
      expect.objectContaining({
        code: 104,
        message: `missing chain ${CHAIN} in iptables table nat; chain ${CHAIN} in ip6tables table nat`,
      }),
    );
  });
});

describe("iptables masquerading GC", () => {
  const comment = (network: string, id: string) => `"name: \\"${network}\\" id: \\"${id}\\""`;
  const chainOf = (network: string, id: string) => [
    `:${formatChainName(network, id)} - [0:0]`,
    `-A POSTROUTING -s 10.1.2.9/32 -m comment --comment ${comment(network, id)} -j ${formatChainName(network, id)}`,
    `-A ${formatChainName(network, id)} -d 10.1.2.0/24 -m comment --comment ${comment(network, id)} -j ACCEPT`,
  ];
  const saved = [
    "*nat",
    ":POSTROUTING ACCEPT [0:0]",
    ...chainOf("net1", "c1"),
    ...chainOf("net1", "c2"),
    ...chainOf("net2", "c3"),
    // A comment naming net1/c4 in a chain whose name is not that hash: not ours to remove.
    ":CNI-000000000000000000000000 - [0:0]",
    `-A CNI-000000000000000000000000 -m comment --comment ${comment("net1", "c4")} -j ACCEPT`,
    "COMMIT",
  ].join("\n");
  const table = parseIptablesSave(saved, "nat");

  it("recognises a network's masquerade chains by comment and name", () => {
    expect(masqueradeChainOwner(table, formatChainName("net1", "c2"), "net1")).toBe("c2");
    expect(masqueradeChainOwner(table, formatChainName("net2", "c3"), "net1")).toBeUndefined();
    expect(masqueradeChainOwner(table, "CNI-000000000000000000000000", "net1")).toBeUndefined();
  });

  it("removes only the chains of containers that are no longer valid", () => {
    const executor = new FakeExecutor({ "iptables-save": { stdout: saved }, "ip6tables-save": { stdout: EMPTY_NAT } });
    iptablesMasquerade(executor).gc("net1", [{ containerID: "c1", ifname: "eth0" }]);
    const stale = formatChainName("net1", "c2");
    expect(executor.scripts("iptables-restore")).toEqual([
      [
        "*nat",
        `-D POSTROUTING -s 10.1.2.9/32 -m comment --comment ${comment("net1", "c2")} -j ${stale}`,
        `-F ${stale}`,
        `-X ${stale}`,
        "COMMIT",
        "",
      ].join("\n"),
    ]);
    expect(executor.scripts("ip6tables-restore")).toEqual([]);
  });
});
