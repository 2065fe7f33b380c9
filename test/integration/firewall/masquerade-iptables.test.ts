import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkMasquerade, gcMasquerade, setupMasquerade, teardownMasquerade } from "../../../lib/firewall/index.ts";
import { formatChainName } from "../../../lib/firewall/names.ts";
import { createFirewallNetns, preferLegacyIptables, type FirewallNetns } from "./firewall-netns.ts";

const c1 = { network: "net1", containerId: "c1", ifname: "eth0", addresses: ["10.31.0.2/24", "fd31::2/64"] };
const c2 = { network: "net1", containerId: "c2", ifname: "eth0", addresses: ["10.31.0.3/24", "fd31::3/64"] };
const c3 = { network: "net1", containerId: "c3", ifname: "eth0", addresses: ["10.31.0.4/24"] };
const other = { network: "net2", containerId: "c1", ifname: "eth0", addresses: ["10.32.0.2/24"] };

/** What iptables-save shows for one container's masquerading in one family. */
function savedRules(request: typeof c1, family: 4 | 6): { chain: string; rules: string[]; jumps: string[] } {
  const chain = formatChainName(request.network, request.containerId);
  const comment = `-m comment --comment "name: \\"${request.network}\\" id: \\"${request.containerId}\\""`;
  const [ip, prefix] = request.addresses.find((cidr) => cidr.includes(":") === (family === 6))!.split("/");
  const subnet = family === 4 ? `${ip!.replace(/\.\d+$/, ".0")}/${prefix}` : `${ip!.replace(/::\w+$/, "::")}/${prefix}`;
  return {
    chain: `:${chain} - [0:0]`,
    rules: [
      `-A ${chain} -d ${subnet} ${comment} -j ACCEPT`,
      `-A ${chain} ! -d ${family === 4 ? "224.0.0.0/4" : "ff00::/8"} ${comment} -j MASQUERADE`,
    ],
    jumps: [`-A POSTROUTING -s ${ip}/${family === 4 ? 32 : 128} ${comment} -j ${chain}`],
  };
}

/**
 * A nat table as rule lists per chain (order within a chain matters) plus the set of user
 * chains (iptables-save lists those by name for legacy, by creation for nft).
 */
type NatTable = Record<string, string[]>;

function byChain(lines: string[]): NatTable {
  const table: NatTable = { chains: lines.filter((line) => line.startsWith(":")).sort() };
  for (const line of lines.filter((line) => line.startsWith("-A "))) {
    const chain = line.split(" ")[1]!;
    table[chain] = [...(table[chain] ?? []), line];
  }
  return table;
}

/** The nat table of a family holding exactly these containers, set up in this order. */
function tableOf(family: 4 | 6, ...requests: (typeof c1)[]): NatTable {
  const parts = requests.map((request) => savedRules(request, family));
  return byChain([...parts.map((part) => part.chain), ...parts.flatMap((part) => [...part.jumps, ...part.rules])]);
}

describe.each([
  { flavour: "iptables-nft", legacy: false },
  { flavour: "iptables-legacy", legacy: true },
])("masquerading with $flavour", ({ legacy }) => {
  let fw: FirewallNetns;
  let restorePath: (() => void) | undefined;
  const options = () => ({ backend: "iptables" as const, executor: fw.executor });
  const rules = (family: 4 | 6) => byChain(fw.iptablesRules(family));

  beforeAll(() => {
    if (legacy) restorePath = preferLegacyIptables();
  });
  afterAll(() => restorePath?.());
  beforeEach(() => {
    fw = createFirewallNetns("fwi");
  });
  afterEach(() => fw.ns.remove());

  it("sets up exactly the reference's chain, rules and jump in each family", () => {
    setupMasquerade(c1, options());
    expect(rules(4)).toEqual(tableOf(4, c1));
    expect(rules(6)).toEqual(tableOf(6, c1));
  });

  it("writes through the iptables flavour the host's PATH selects, and only through it", () => {
    setupMasquerade(c1, options());
    const otherFlavour = fw.executor.run(legacy ? "iptables-nft-save" : "iptables-legacy-save", ["-t", "nat"]).stdout;
    expect(otherFlavour).not.toContain(formatChainName("net1", "c1"));
  });

  it("is idempotent: a second setup changes nothing", () => {
    setupMasquerade(c1, options());
    const once = [rules(4), rules(6)];
    setupMasquerade(c1, options());
    expect([rules(4), rules(6)]).toEqual(once);
  });

  it("passes CHECK after setup", () => {
    setupMasquerade(c1, options());
    expect(() => checkMasquerade(c1, options())).not.toThrow();
  });

  it("fails CHECK with code 104 naming the rule deleted by hand", () => {
    setupMasquerade(c1, options());
    const chain = formatChainName("net1", "c1");
    fw.exec(["iptables", "-t", "nat", "-D", chain, "!", "-d", "224.0.0.0/4", "-j", "MASQUERADE", "-m", "comment", "--comment", 'name: "net1" id: "c1"']);
    expect(() => checkMasquerade(c1, options())).toThrow(
      expect.objectContaining({ code: 104, message: expect.stringMatching(/missing rule "-A CNI-\w+ ! -d 224\.0\.0\.0\/4 .*MASQUERADE" in iptables table nat$/) }),
    );
  });

  it("repairs a chain someone emptied on the next setup", () => {
    setupMasquerade(c1, options());
    fw.exec(["iptables", "-t", "nat", "-F", formatChainName("net1", "c1")]);
    setupMasquerade(c1, options());
    expect(rules(4)).toEqual(tableOf(4, c1));
  });

  it("tears down exactly this container's rules and leaves another container's intact", () => {
    setupMasquerade(c1, options());
    setupMasquerade(c2, options());
    teardownMasquerade(c1, options());
    expect(rules(4)).toEqual(tableOf(4, c2));
    expect(rules(6)).toEqual(tableOf(6, c2));
  });

  it("tears down without knowing the addresses", () => {
    setupMasquerade(c1, options());
    teardownMasquerade({ network: "net1", containerId: "c1", ifname: "eth0" }, options());
    expect([rules(4), rules(6)]).toEqual([{ chains: [] }, { chains: [] }]);
  });

  it("succeeds on a second teardown and on a teardown of something never set up", () => {
    setupMasquerade(c1, options());
    teardownMasquerade(c1, options());
    expect(() => teardownMasquerade(c1, options())).not.toThrow();
    expect(() => teardownMasquerade(c3, options())).not.toThrow();
    expect([rules(4), rules(6)]).toEqual([{ chains: [] }, { chains: [] }]);
  });

  it("GC removes the chains of containers no longer valid, and no other network's", () => {
    for (const request of [c1, c2, c3, other]) setupMasquerade(request, options());
    gcMasquerade("net1", [{ containerID: "c1", ifname: "eth0" }], options());
    expect(rules(4)).toEqual(tableOf(4, c1, other));
    expect(rules(6)).toEqual(tableOf(6, c1));
  });
});
