import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { ipJson } from "../../helpers/netns.ts";
import {
  BandwidthScene,
  type Container,
  type IpLink,
  REFERENCE_BANDWIDTH,
  TWO_WAY_RATES,
  type TcFilter,
  type TcQdisc,
  isUnshaped,
  linkExists,
  qdiscsOf,
  redirectFilterOf,
} from "./harness.ts";

/**
 * Ours against the reference bandwidth plugin (/usr/lib/cni/bandwidth, 1.1.1): the same chained
 * configuration, each on its own container of one bridge network, observed with tc and ip.
 * Normalized: the ifb's name (derived from each container's ID, the same way by both), MACs,
 * the kernel's global action indexes and reference counts, and the reference's second,
 * unreachable mirred action (its netlink library adds the redirect twice; the first one steals
 * every packet, so the second never runs).
 */

function snapshot(c: Container, result: { interfaces: { name: string; mac?: string; sandbox?: string }[] }) {
  const filter = redirectFilterOf(c.hostVeth);
  const [ifb] = ipJson<IpLink[]>(["-d", "link", "show", "dev", c.ifb]);
  const withoutRefcnt = ({ refcnt: _refcnt, ...qdisc }: TcQdisc) => qdisc;
  return {
    hostVethQdiscs: qdiscsOf(c.hostVeth).map(withoutRefcnt),
    ifbQdiscs: qdiscsOf(c.ifb).map(withoutRefcnt),
    filter: filter && normalizeFilter(filter, c.ifb),
    ifb: { mtu: ifb!.mtu, up: ifb!.flags.includes("UP"), kind: ifb!.linkinfo?.info_kind, txqlen: readFileSync(`/sys/class/net/${c.ifb}/tx_queue_len`, "utf8").trim() },
    resultInterfaces: result.interfaces.map((entry) => ({ ...entry, name: entry.name === c.ifb ? "<ifb>" : entry.name === c.hostVeth ? "<veth>" : entry.name, mac: entry.mac ? "<mac>" : undefined, sandbox: entry.sandbox ? "<netns>" : undefined })),
  };
}

function normalizeFilter(filter: TcFilter, ifb: string): TcFilter {
  const actions = (filter.options?.actions ?? [])
    .slice(0, 1)
    .map(({ index: _index, ref: _ref, bind: _bind, ...action }) => ({ ...action, to_dev: action.to_dev === ifb ? "<ifb>" : action.to_dev }));
  return { ...filter, options: { ...filter.options, actions } };
}

describe("bandwidth against the reference plugin", () => {
  let scene: BandwidthScene;
  beforeEach(() => {
    scene = new BandwidthScene();
  });
  afterEach(() => scene.cleanup());

  it("builds the same qdiscs, filter and ifb from the same configuration", () => {
    const theirs = scene.attach(TWO_WAY_RATES);
    const ours = scene.attach(TWO_WAY_RATES);
    const theirResult = mustCall(REFERENCE_BANDWIDTH, theirs.bandwidth("ADD")).json;
    const ourResult = mustCall("bandwidth", ours.bandwidth("ADD")).json;

    const expected = snapshot(theirs, theirResult);
    expect(expected.hostVethQdiscs.map((qdisc) => qdisc.kind)).toEqual(["tbf", "ingress"]);
    expect(expected.filter?.options?.actions).toHaveLength(1);
    expect(snapshot(ours, ourResult)).toEqual(expected);
    expect(theirResult.interfaces.at(-1).name).toBe(theirs.ifb);
  });

  it("accepts the reference's ADD in CHECK, and the reference accepts ours", () => {
    const theirs = scene.attach(TWO_WAY_RATES);
    const ours = scene.attach(TWO_WAY_RATES);
    const theirResult = mustCall(REFERENCE_BANDWIDTH, theirs.bandwidth("ADD")).json;
    const ourResult = mustCall("bandwidth", ours.bandwidth("ADD")).json;

    const ourCheck = callPlugin("bandwidth", theirs.bandwidth("CHECK", { prevResult: theirResult }));
    expect(ourCheck.status, ourCheck.stdout).toBe(0);
    const theirCheck = callPlugin(REFERENCE_BANDWIDTH, ours.bandwidth("CHECK", { prevResult: ourResult }));
    expect(theirCheck.status, theirCheck.stdout).toBe(0);
  });

  it("refuses what the reference refuses, with code 7 where the reference answers 999", () => {
    const c = scene.attach();
    for (const config of [{ ingressRate: 1000 }, { egressBurst: 1000 }, { ingressRate: 1000, ingressBurst: 40_000_000_000 }]) {
      const theirs = callPlugin(REFERENCE_BANDWIDTH, c.bandwidth("ADD", config));
      const ours = callPlugin("bandwidth", c.bandwidth("ADD", config));
      expect([theirs.status, ours.status]).toEqual([1, 1]);
      expect(ours.json.code).toBe(7);
      console.log(`bandwidth differential: ${JSON.stringify(config)}: reference ${theirs.json.code} "${theirs.json.msg}", ours ${ours.json.code} "${ours.json.msg}"`);
    }
  });

  it("removes the host veth's qdiscs on DEL, where the reference leaves them (and its filter redirecting to a deleted ifb)", () => {
    const theirs = scene.attach(TWO_WAY_RATES);
    const ours = scene.attach(TWO_WAY_RATES);
    mustCall(REFERENCE_BANDWIDTH, theirs.bandwidth("ADD"));
    mustCall("bandwidth", ours.bandwidth("ADD"));
    mustCall(REFERENCE_BANDWIDTH, theirs.bandwidth("DEL"));
    mustCall("bandwidth", ours.bandwidth("DEL"));
    expect([linkExists(theirs.ifb), linkExists(ours.ifb)]).toEqual([false, false]);
    expect(qdiscsOf(theirs.hostVeth).map((qdisc) => qdisc.kind)).toEqual(["tbf", "ingress"]);
    expect(isUnshaped(ours.hostVeth)).toBe(true);
  });

  it("saturates the buffer of an 'unlimited' burst (2^32 - 1 bits, as runtimes send it) where the reference's wraps around", () => {
    const rates = { egressRate: 10_000_000, egressBurst: 4_294_967_295 };
    const theirs = scene.attach(rates);
    const ours = scene.attach(rates);
    mustCall(REFERENCE_BANDWIDTH, theirs.bandwidth("ADD"));
    mustCall("bandwidth", ours.bandwidth("ADD"));
    const theirBurst = qdiscsOf(theirs.ifb)[0]!.options!.burst!;
    const ourBurst = qdiscsOf(ours.ifb)[0]!.options!.burst!;
    console.log(`bandwidth differential: 2^32 - 1-bit burst at 10 Mbit/s: tc shows a burst of ${ourBurst} bytes for ours, ${theirBurst} for the reference (asked: ${Math.floor(4_294_967_295 / 8)})`);
    // 2^32 - 1 ticks of 64 ns at 1250000 bytes/s: the largest bucket tbf can hold at that rate.
    expect(ourBurst).toBe(343_597_382);
    expect(theirBurst).toBeLessThan(ourBurst);
  });
});
