import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, deleteLinkIfExists, ipJson } from "../../helpers/netns.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { BandwidthScene, type IpLink, TWO_WAY_RATES, ifbNameFor, isUnshaped, linkExists, qdiscsOf, redirectFilterOf } from "./harness.ts";

describe("bandwidth chained after bridge + host-local", () => {
  let scene: BandwidthScene;
  beforeEach(() => {
    scene = new BandwidthScene();
  });
  afterEach(() => scene.cleanup());

  it("ADD puts a tbf on the host veth for ingress and redirects egress through an ifb with its own tbf", () => {
    const c = scene.attach(TWO_WAY_RATES);
    const result = mustCall("bandwidth", c.bandwidth("ADD")).json;

    const [vethRoot, vethIngress] = qdiscsOf(c.hostVeth);
    expect(vethRoot).toMatchObject({ kind: "tbf", handle: "1:", root: true, options: { rate: 2_500_000, burst: 50_000, lat: 25_000 } });
    expect(vethIngress).toMatchObject({ kind: "ingress", handle: "ffff:", parent: "ffff:fff1" });

    const filter = redirectFilterOf(c.hostVeth);
    expect(filter).toMatchObject({ kind: "u32", pref: 1, protocol: "all", options: { flowid: "1:1", match: { value: "0", mask: "0" } } });
    expect(filter!.options!.actions).toEqual([
      expect.objectContaining({ order: 1, kind: "mirred", mirred_action: "redirect", direction: "egress", to_dev: c.ifb, control_action: { type: "stolen" } }),
    ]);

    // 62500 bytes at 3750000 bytes/s: 16666 us of buffer, which tc prints back as 62493 bytes
    // (and so the latency it derives from the limit as 25001 us); the reference's is the same.
    expect(qdiscsOf(c.ifb)).toEqual([
      expect.objectContaining({ kind: "tbf", handle: "1:", root: true, options: { rate: 3_750_000, burst: 62_493, lat: 25_001 } }),
    ]);
    const [ifb] = ipJson<IpLink[]>(["-d", "link", "show", "dev", c.ifb]);
    const [veth] = ipJson<IpLink[]>(["link", "show", "dev", c.hostVeth]);
    expect(ifb).toMatchObject({ mtu: veth!.mtu, linkinfo: { info_kind: "ifb" } });
    expect(ifb!.flags).toContain("UP");
    // The reference creates its ifb with a transmit queue length of 0 (ip -j leaves 0 out).
    expect(readFileSync(`/sys/class/net/${c.ifb}/tx_queue_len`, "utf8").trim()).toBe("0");

    expect(result.interfaces).toEqual([...c.prevResult.interfaces, { name: c.ifb, mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) }]);
    expect(result.ips).toEqual(c.prevResult.ips);
  });

  it("CHECK passes after ADD", () => {
    const c = scene.attach(TWO_WAY_RATES);
    const result = mustCall("bandwidth", c.bandwidth("ADD")).json;
    const check = callPlugin("bandwidth", c.bandwidth("CHECK", { prevResult: result }));
    expect(check.status, check.stdout).toBe(0);
  });

  it("CHECK fails with 104 after the host veth's tbf is deleted by hand", () => {
    const c = scene.attach(TWO_WAY_RATES);
    const result = mustCall("bandwidth", c.bandwidth("ADD")).json;
    execFileSync("tc", ["qdisc", "del", "dev", c.hostVeth, "root"]);
    const check = callPlugin("bandwidth", c.bandwidth("CHECK", { prevResult: result }));
    expect(check.status).toBe(1);
    expect(check.json).toMatchObject({ code: 104, msg: `${c.hostVeth} has a noqueue root qdisc where the tbf shaping ingress traffic belongs` });
  });

  it("CHECK fails with 104 after the ifb's tbf or the redirect is deleted by hand", () => {
    const c = scene.attach(TWO_WAY_RATES);
    const result = mustCall("bandwidth", c.bandwidth("ADD")).json;
    execFileSync("tc", ["qdisc", "del", "dev", c.ifb, "root"]);
    expect(callPlugin("bandwidth", c.bandwidth("CHECK", { prevResult: result })).json).toMatchObject({
      code: 104,
      msg: expect.stringMatching(new RegExp(`^${c.ifb} has a \\w+ root qdisc where the tbf shaping egress traffic belongs`)),
    });
    execFileSync("tc", ["qdisc", "del", "dev", c.hostVeth, "ingress"]);
    expect(callPlugin("bandwidth", c.bandwidth("CHECK", { prevResult: result })).json).toMatchObject({
      code: 104,
      msg: `${c.hostVeth} has no ingress qdisc: its incoming (egress) traffic is not redirected to ${c.ifb}`,
    });
  });

  it("CHECK fails with 104 naming the numbers when the configured rate no longer matches", () => {
    const c = scene.attach(TWO_WAY_RATES);
    const result = mustCall("bandwidth", c.bandwidth("ADD")).json;
    const check = callPlugin("bandwidth", c.bandwidth("CHECK", { prevResult: result, ingressRate: 10_000_000 }));
    expect(check.json.code).toBe(104);
    expect(check.json.msg).toBe(
      `the tbf of ${c.hostVeth} (ingress) has rate 2500000 bytes/s, buffer 312500 ticks, limit 112500 bytes; ` +
        "ingressRate=10000000 with a 400000-bit burst needs rate 1250000 bytes/s, buffer 625000 ticks, limit 81250 bytes",
    );
  });

  it("DEL removes the ifb and the qdiscs, and a second DEL succeeds", () => {
    const c = scene.attach(TWO_WAY_RATES);
    mustCall("bandwidth", c.bandwidth("ADD"));
    mustCall("bandwidth", c.bandwidth("DEL"));
    expect(linkExists(c.ifb)).toBe(false);
    expect(isUnshaped(c.hostVeth)).toBe(true);
    expect(linkExists(c.hostVeth)).toBe(true);
    const again = callPlugin("bandwidth", c.bandwidth("DEL"));
    expect(again.status, again.stdout).toBe(0);
    expect(again.stdout).toBe("");
  });

  it("DEL cleans up even when the configuration has since become invalid", () => {
    const c = scene.attach(TWO_WAY_RATES);
    mustCall("bandwidth", c.bandwidth("ADD"));
    const del = callPlugin("bandwidth", c.bandwidth("DEL", { ingressRate: -1, egressBurst: 0 }));
    expect(del.status, del.stdout).toBe(0);
    expect(linkExists(c.ifb)).toBe(false);
    expect(isUnshaped(c.hostVeth)).toBe(true);
  });

  it("DEL after the namespace is gone succeeds and removes the ifb", () => {
    const c = scene.attach(TWO_WAY_RATES);
    mustCall("bandwidth", c.bandwidth("ADD"));
    c.netns.remove();
    const del = callPlugin("bandwidth", c.bandwidth("DEL"));
    expect(del.status, del.stdout).toBe(0);
    expect(linkExists(c.ifb)).toBe(false);
  });

  it("DEL without CNI_NETNS or prevResult removes the ifb and leaves the veth's qdiscs to go with it", () => {
    const c = scene.attach(TWO_WAY_RATES);
    mustCall("bandwidth", c.bandwidth("ADD"));
    const del = callPlugin("bandwidth", { ...c.bandwidth("DEL", { prevResult: undefined }), netns: undefined });
    expect(del.status, del.stdout).toBe(0);
    expect(linkExists(c.ifb)).toBe(false);
  });

  it("shapes only ingress when no egress rate is set: no ifb, no ingress qdisc", () => {
    const c = scene.attach({ ingressRate: 8000, ingressBurst: 80 });
    const result = mustCall("bandwidth", c.bandwidth("ADD")).json;
    expect(qdiscsOf(c.hostVeth)).toEqual([expect.objectContaining({ kind: "tbf", options: expect.objectContaining({ rate: 1000 }) })]);
    expect(linkExists(c.ifb)).toBe(false);
    expect(result.interfaces).toEqual(c.prevResult.interfaces);
    expect(callPlugin("bandwidth", c.bandwidth("CHECK", { prevResult: result })).status).toBe(0);
  });

  it("takes the rates from the bandwidth capability when the configuration has none", () => {
    const c = scene.attach();
    mustCall("bandwidth", c.bandwidth("ADD", { runtimeConfig: { bandwidth: { egressRate: 16_000_000, egressBurst: 160_000 } } }));
    expect(qdiscsOf(c.ifb)[0]).toMatchObject({ kind: "tbf", options: { rate: 2_000_000 } });
    expect(qdiscsOf(c.hostVeth).map((qdisc) => qdisc.kind)).toEqual(["noqueue", "ingress"]);
  });

  it("passes prevResult through untouched when no rate is configured", () => {
    const c = scene.attach();
    const result = mustCall("bandwidth", c.bandwidth("ADD")).json;
    expect(result).toEqual({ cniVersion: "1.0.0", ...c.prevResult });
    expect(isUnshaped(c.hostVeth)).toBe(true);
    expect(linkExists(c.ifb)).toBe(false);
  });

  it("works after ptp as well (the reference's ptp: it returns the host veth the same way)", () => {
    const netns = createNetns("bwp");
    const containerId = uniqueName("bwptp");
    const ptp = (command: "ADD" | "DEL") => ({
      command,
      containerId,
      netns: netns.path,
      ifname: "eth0",
      path: REFERENCE_BIN,
      config: {
        cniVersion: "1.0.0",
        name: scene.network.name,
        type: "ptp",
        ipam: { type: "host-local", subnet: scene.network.subnets.v4, dataDir: scene.network.dataDir },
      },
    });
    const ifb = ifbNameFor(scene.network.name, containerId);
    try {
      const prevResult = mustCall(`${REFERENCE_BIN}/ptp`, ptp("ADD")).json;
      const hostVeth = prevResult.interfaces.find((entry: { sandbox?: string }) => !entry.sandbox).name;
      const bandwidth = (command: "ADD" | "CHECK" | "DEL", previous = prevResult) => ({
        command,
        containerId,
        netns: netns.path,
        ifname: "eth0",
        config: { cniVersion: "1.0.0", name: scene.network.name, type: "bandwidth", ...TWO_WAY_RATES, prevResult: previous },
      });
      const result = mustCall("bandwidth", bandwidth("ADD")).json;
      expect(qdiscsOf(hostVeth).map((qdisc) => qdisc.kind)).toEqual(["tbf", "ingress"]);
      expect(redirectFilterOf(hostVeth)!.options!.actions![0]!.to_dev).toBe(ifb);
      expect(callPlugin("bandwidth", bandwidth("CHECK", result)).status).toBe(0);
      mustCall("bandwidth", bandwidth("DEL", result));
      expect(linkExists(ifb)).toBe(false);
      expect(isUnshaped(hostVeth)).toBe(true);
    } finally {
      callPlugin(`${REFERENCE_BIN}/ptp`, ptp("DEL"));
      netns.remove();
      deleteLinkIfExists(ifb);
    }
  });
});
