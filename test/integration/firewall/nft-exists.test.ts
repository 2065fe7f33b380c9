import { afterAll, describe, expect, it } from "vitest";
import { commandExecutor, type ToolExecutor, type ToolOutput } from "../../../lib/firewall/exec.ts";
import { iptablesForwardAccess } from "../../../lib/firewall/forward/iptables.ts";
import { setupMasquerade, teardownMasquerade } from "../../../lib/firewall/index.ts";
import { formatChainName } from "../../../lib/firewall/names.ts";
import { nftChainExists, nftTableExists } from "../../../lib/firewall/nftables/exists.ts";
import { readNftTable } from "../../../lib/firewall/nftables/listing.ts";
import { iptablesPortMap } from "../../../lib/firewall/portmap/iptables.ts";
import { NetNS } from "../../../lib/netns/index.ts";
import { createNetns } from "../../helpers/netns.ts";
import { uniqueName } from "../../helpers/tag.ts";

/**
 * The in-process answer to "is there such an nftables table" must be nft's: asked over netlink
 * in a namespace of the test's own, against tables nft itself made there.
 */
describe("whether an nftables table or chain exists, asked of the kernel without nft", () => {
  const ns = createNetns("nftx");
  const netns = NetNS.open(ns.path);
  const table = uniqueName("t").replaceAll("-", "_");
  ns.exec(["nft", "add", "table", "inet", table]);
  ns.exec(["nft", "add", "table", "ip6", table]);
  afterAll(() => {
    netns.close();
    ns.remove();
  });

  it("says true for a table nft made, in its family only, and false for any other", () => {
    expect(netns.run(() => nftTableExists("inet", table))).toBe(true);
    expect(netns.run(() => nftTableExists("ip6", table))).toBe(true);
    expect(netns.run(() => nftTableExists("ip", table))).toBe(false);
    expect(netns.run(() => nftTableExists("inet", `${table}_not`))).toBe(false);
  });

  it("says true for a chain nft made, and false for another chain or a chain of a missing table", () => {
    ns.exec(["nft", "add", "chain", "ip6", table, "c1"]);
    expect(netns.run(() => nftChainExists("ip6", table, "c1"))).toBe(true);
    expect(netns.run(() => nftChainExists("ip6", table, "c2"))).toBe(false);
    expect(netns.run(() => nftChainExists("ip", table, "c1"))).toBe(false);
  });

  it("says nothing for a family nft knows by another name, so nft is asked", () => {
    expect(netns.run(() => nftTableExists("inet6", table))).toBeUndefined();
  });

  it("lets a local executor skip nft for a missing table, and still lists an existing one with nft", () => {
    const ran: string[] = [];
    const local: ToolExecutor = {
      local: true,
      run(tool, args): ToolOutput {
        ran.push([tool, ...args].join(" "));
        return { status: 0, stdout: JSON.stringify({ nftables: [{ chain: { name: "c" } }] }), stderr: "" };
      },
    };
    expect(netns.run(() => readNftTable(local, "inet", `${table}_not`))).toBeUndefined();
    expect(ran).toEqual([]);
    expect(netns.run(() => readNftTable(local, "inet", table))?.chain("c")).toEqual({ name: "c" });
    expect(ran).toEqual([`nft -j list table inet ${table}`]);
  });

  /** The real tools, run here (so in the namespace NetNS.run enters), each call's tool recorded. */
  function recordingLocalExecutor(): { executor: ToolExecutor; ran: string[] } {
    const real = commandExecutor();
    const ran: string[] = [];
    return { ran, executor: { local: true, run: (tool, args, input) => (ran.push(tool), real.run(tool, args, input)) } };
  }

  it("lets iptables-nft masquerading (backend chosen, not configured) skip iptables-save where the container's chain does not exist", () => {
    ns.exec(["ip6tables", "-t", "nat", "-S"]); // the ip6 nat table exists, as on a node with IPv6
    const { executor, ran } = recordingLocalExecutor();
    const masquerade = {
      setup: (request: typeof attachment) => setupMasquerade(request, { executor }),
      teardown: (request: Parameters<typeof teardownMasquerade>[0]) => teardownMasquerade(request, { executor }),
    };
    const attachment = { network: "n1", containerId: uniqueName("c"), ifname: "eth0", addresses: ["10.33.0.2/24"] };
    const chain = formatChainName(attachment.network, attachment.containerId);

    // No iptables-save to choose the backend, none to plan: the restore alone.
    netns.run(() => masquerade.setup(attachment));
    expect(ran).toEqual(["iptables-restore"]);
    expect(ns.exec(["iptables", "-t", "nat", "-S", "POSTROUTING"])).toContain(`-j ${chain}`);

    // Addresses known: the restore deletes exactly what setup made, without reading.
    ran.length = 0;
    netns.run(() => masquerade.teardown(attachment));
    expect(ran).toEqual(["iptables-restore"]);
    expect(ns.exec(["iptables", "-t", "nat", "-S"])).not.toContain(chain);

    ran.length = 0;
    netns.run(() => masquerade.teardown(attachment));
    expect(ran).toEqual([]);

    // Addresses unknown (no prevResult, no namespace): read, then remove what is there.
    netns.run(() => masquerade.setup(attachment));
    ran.length = 0;
    netns.run(() => masquerade.teardown({ ...attachment, addresses: undefined }));
    expect(ran).toEqual(["iptables-save", "iptables-restore"]);
    expect(ns.exec(["iptables", "-t", "nat", "-S"])).not.toContain(chain);
  });

  it("reads the table after all when the chain holds more than the addresses DEL knows of", () => {
    const { executor, ran } = recordingLocalExecutor();
    const attachment = { network: "n3", containerId: uniqueName("c"), ifname: "eth0", addresses: ["10.35.0.2/24", "10.36.0.2/24"] };
    const chain = formatChainName(attachment.network, attachment.containerId);
    netns.run(() => setupMasquerade(attachment, { executor }));
    ran.length = 0;
    // prevResult named only the first address: its exact teardown fails as a whole (the chain
    // is still jumped to), and the reading then finds the second jump too.
    netns.run(() => teardownMasquerade({ ...attachment, addresses: ["10.35.0.2/24"] }, { executor }));
    expect(ran).toEqual(["iptables-restore", "iptables-save", "iptables-restore"]);
    expect(ns.exec(["iptables", "-t", "nat", "-S"])).not.toContain(chain);
  });

  it("lets iptables-nft forwarding and port mapping skip a family where none of their chains exist", () => {
    const { executor, ran } = recordingLocalExecutor();
    const attachment = { network: "n2", containerId: uniqueName("c"), ifname: "eth0" };
    const forward = iptablesForwardAccess(executor, "CNI-ADMIN");
    netns.run(() => forward.setup({ attachment, addresses: ["10.34.0.2/24"] }));
    ran.length = 0;
    netns.run(() => forward.teardown(attachment, []));
    // IPv4: read once, planned and applied; IPv6 has no CNI-FORWARD, so it is not read at all.
    expect(ran).toEqual(["iptables-save", "iptables-restore"]);
    expect(ns.exec(["iptables", "-S", "CNI-FORWARD"])).not.toContain("10.34.0.2");

    ran.length = 0;
    netns.run(() => iptablesPortMap(executor).teardown({ network: "n2", containerId: attachment.containerId }));
    expect(ran).toEqual([]);
  });
});
