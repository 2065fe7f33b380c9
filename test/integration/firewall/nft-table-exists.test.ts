import { afterAll, describe, expect, it } from "vitest";
import type { ToolExecutor, ToolOutput } from "../../../lib/firewall/exec.ts";
import { readNftTable } from "../../../lib/firewall/nftables/listing.ts";
import { nftTableExists } from "../../../lib/firewall/nftables/table-exists.ts";
import { NetNS } from "../../../lib/netns/index.ts";
import { createNetns } from "../../helpers/netns.ts";
import { uniqueName } from "../../helpers/tag.ts";

/**
 * The in-process answer to "is there such an nftables table" must be nft's: asked over netlink
 * in a namespace of the test's own, against tables nft itself made there.
 */
describe("whether an nftables table exists, asked of the kernel without nft", () => {
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
});
