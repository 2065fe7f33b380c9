import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callPlugin } from "../../helpers/cni.ts";
import { BandwidthScene, type Container, isUnshaped, linkExists } from "./harness.ts";

/** Every refused ADD must leave the container as the bridge left it: no ifb, no qdisc. */
describe("bandwidth ADD refusals", () => {
  let scene: BandwidthScene;
  let c: Container;
  beforeAll(() => {
    scene = new BandwidthScene();
    c = scene.attach();
  });
  afterAll(() => scene.cleanup());

  function expectRefused(config: Record<string, unknown>, code: number, message: string | RegExp, ifname?: string): void {
    const outcome = callPlugin("bandwidth", { ...c.bandwidth("ADD", config), ...(ifname ? { ifname } : {}) });
    expect(outcome.status).toBe(1);
    expect(outcome.json.code).toBe(code);
    expect(outcome.json.msg).toMatch(message);
    expect(linkExists(c.ifb)).toBe(false);
    expect(isUnshaped(c.hostVeth)).toBe(true);
  }

  it("a rate without its burst: code 7 naming the burst", () => {
    expectRefused({ egressRate: 1_000_000 }, 7, "invalid config: egressBurst=(missing): egressRate is set, so egressBurst must be set too");
  });

  it("a burst without its rate: code 7 naming the rate", () => {
    expectRefused({ ingressBurst: 10_000 }, 7, "invalid config: ingressRate=(missing): ingressBurst is set, so ingressRate must be set too");
  });

  it("a negative rate: code 7 naming it", () => {
    expectRefused({ ingressRate: -1, ingressBurst: 10_000 }, 7, "invalid config: ingressRate=-1: must not be negative");
  });

  it("a burst of 4 GB or more: code 7 naming it", () => {
    expectRefused(
      { egressRate: 1_000_000, egressBurst: 40_000_000_000 },
      7,
      "invalid config: egressBurst=40000000000: must be below 34359738360 bits (4 GB): tbf counts the burst in 32-bit bytes",
    );
  });

  it("a rate too large for JSON numbers: code 7 naming it", () => {
    expectRefused({ ingressRate: 1e17, ingressBurst: 10_000 }, 7, /^invalid config: ingressRate=100000000000000000: must be at most/);
  });

  it("a missing prevResult: code 7 naming prevResult", () => {
    expectRefused(
      { ingressRate: 1_000_000, ingressBurst: 10_000, prevResult: undefined },
      7,
      /^invalid config: prevResult=\(missing\): bandwidth is a chained plugin/,
    );
  });

  it("a prevResult that does not list the host veth: code 7", () => {
    const prevResult = { ...c.prevResult, interfaces: c.prevResult.interfaces.filter((entry) => entry.name !== c.hostVeth) };
    expectRefused(
      { egressRate: 1_000_000, egressBurst: 10_000, prevResult },
      7,
      `invalid config: prevResult.interfaces=${JSON.stringify(prevResult.interfaces.map((entry) => entry.name))}: lists no host interface ${c.hostVeth}, the veth peer of eth0`,
    );
  });

  it("a container interface that is not a veth: code 7 saying so", () => {
    expectRefused({ egressRate: 1_000_000, egressBurst: 10_000 }, 7, /^invalid config: lo in \/run\/netns\/\S+ is a plain device, not a veth/, "lo");
  });

  it("a failure part way (the ifb name taken by another device): code 100, and the host veth's tbf undone", () => {
    // A veth pair under the ifb's name makes creating the ifb fail after the ingress tbf is in place.
    execFileSync("ip", ["link", "add", c.ifb, "type", "veth", "peer", "name", `${c.ifb.slice(0, 12)}pr`]);
    try {
      const outcome = callPlugin("bandwidth", c.bandwidth("ADD", { ingressRate: 1_000_000, ingressBurst: 10_000, egressRate: 1_000_000, egressBurst: 10_000 }));
      expect(outcome.json.code).toBe(100);
      expect(outcome.json.msg).toMatch(new RegExp(`^create link ${c.ifb} \\(ifb\\): EEXIST`));
      expect(isUnshaped(c.hostVeth)).toBe(true);
    } finally {
      execFileSync("ip", ["link", "del", c.ifb]);
    }
  });
});
