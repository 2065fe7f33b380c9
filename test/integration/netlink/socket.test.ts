import { execFileSync, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetNS } from "../../../lib/netns/index.ts";
import { Rtnetlink } from "../../../lib/netlink/index.ts";
import { type NetlinkNamespace, netlinkNamespace } from "./namespace.ts";

let ns: NetlinkNamespace;
let index: number;
const ADDRESSES = 1500;

beforeAll(() => {
  ns = netlinkNamespace("nls");
  ns.nl.createLink({ kind: "ifb", name: "s0" });
  index = ns.nl.linkByName("s0")!.index;
  const commands = Array.from({ length: ADDRESSES }, (_, i) => `addr add 10.77.${i >> 8}.${i & 0xff}/32 dev s0`);
  execFileSync("ip", ["-n", ns.netns.name, "-batch", "-"], { input: `${commands.join("\n")}\n` });
});

afterAll(() => ns?.remove());

describe("an rtnetlink socket", () => {
  it("opened in a namespace stays bound to it after the thread has switched back", () => {
    const home = NetNS.current();
    const nl = Rtnetlink.openIn(ns.handle);
    try {
      const here = NetNS.current();
      expect(here.sameAs(home)).toBe(true);
      here.close();
      expect(nl.linkByName("s0")).toBeDefined();
      const hostSide = Rtnetlink.open();
      expect(hostSide.linkByName("s0")).toBeUndefined();
      hostSide.close();
    } finally {
      nl.close();
      home.close();
    }
  });

  it("reads a dump that spans many datagrams completely", () => {
    const addresses = ns.nl.addresses({ index, family: 4 });
    expect(addresses).toHaveLength(ADDRESSES);
    expect(new Set(addresses.map((a) => a.address)).size).toBe(ADDRESSES);
  });

  it("answers the next request after a failed one", () => {
    expect(() => ns.nl.deleteLink(999_999)).toThrow(/ENODEV/);
    expect(ns.nl.linkByName("s0")?.index).toBe(index);
  });

  it("keeps dumping correctly while the table changes underneath", async () => {
    // Another process churns addresses on a second link: dumps may be flagged NLM_F_DUMP_INTR and retried.
    ns.nl.createLink({ kind: "ifb", name: "s1" });
    const churn = spawn("sh", ["-c", `while :; do ip -n ${ns.netns.name} addr add 10.78.0.1/32 dev s1; ip -n ${ns.netns.name} addr del 10.78.0.1/32 dev s1; done`], {
      stdio: "ignore",
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < 30; i++) {
        expect(ns.nl.addresses({ index, family: 4 })).toHaveLength(ADDRESSES);
      }
    } finally {
      churn.kill();
    }
  });

  it("refuses requests once closed", () => {
    const nl = Rtnetlink.openIn(ns.handle);
    nl.close();
    expect(() => nl.links()).toThrow("list links: the netlink socket is closed");
  });
});
