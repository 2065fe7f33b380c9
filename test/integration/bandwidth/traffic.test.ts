import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mustCall } from "../../helpers/cni.ts";
import { BandwidthScene, type Container } from "./harness.ts";

/**
 * Real traffic through the shaping: iperf3 between two containers on one bridge. `shaped` has
 * bandwidth chained after its bridge attachment; `peer` has none. Traffic from peer to shaped is
 * shaped's ingress (the host veth's tbf), traffic back (iperf3 -R) its egress (the ifb's tbf).
 */

const LIMIT = 20_000_000;
const BURST = 1_000_000;
const TOLERANCE = 0.25;

describe("bandwidth limits measured with iperf3", () => {
  let scene: BandwidthScene;
  let shaped: Container;
  let peer: Container;
  const unshapedRates: Record<string, number> = {};

  beforeAll(() => {
    scene = new BandwidthScene();
    shaped = scene.attach({ ingressRate: LIMIT, ingressBurst: BURST, egressRate: LIMIT, egressBurst: BURST });
    peer = scene.attach();
  });
  afterAll(() => scene.cleanup());

  /** Bits per second the receiving side counted, with an iperf3 server in `shaped` for this run only. */
  function measure(direction: "into the container" | "out of the container"): number {
    const port = randomInt(20_000, 40_000);
    const server: ChildProcess = spawn("ip", ["netns", "exec", shaped.netns.name, "iperf3", "-s", "-1", "-p", String(port)], {
      stdio: "ignore",
    });
    try {
      waitForListener(shaped, port);
      const reverse = direction === "out of the container" ? ["-R"] : [];
      // -O 1 leaves TCP's slow start (and the bucket's initial burst) out of the average.
      const output = peer.netns.exec(["iperf3", "-c", shaped.address, "-p", String(port), "-t", "3", "-O", "1", "-J", ...reverse], {
        timeoutMs: 30_000,
      });
      return (JSON.parse(output) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
    } finally {
      server.kill();
    }
  }

  function report(label: string, bitsPerSecond: number): void {
    console.log(`bandwidth iperf3: ${label}: ${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`);
  }

  it.each(["into the container", "out of the container"] as const)("runs far above 20 Mbit/s %s without the plugin", (direction) => {
    const rate = measure(direction);
    report(`${direction}, no plugin`, rate);
    unshapedRates[direction] = rate;
    expect(rate).toBeGreaterThan(3 * LIMIT);
  });

  it("ADD installs the 20 Mbit/s limits both ways", () => {
    mustCall("bandwidth", shaped.bandwidth("ADD"));
  });

  it.each(["into the container", "out of the container"] as const)("holds traffic %s within a quarter of 20 Mbit/s", (direction) => {
    const rate = measure(direction);
    report(`${direction}, limited to 20 Mbit/s`, rate);
    expect(rate).toBeGreaterThan(LIMIT * (1 - TOLERANCE));
    expect(rate).toBeLessThan(LIMIT * (1 + TOLERANCE));
    expect(unshapedRates[direction]).toBeGreaterThan(3 * rate);
  });

  it("DEL lifts the limits again", () => {
    mustCall("bandwidth", shaped.bandwidth("DEL"));
    const rate = measure("out of the container");
    report("out of the container, after DEL", rate);
    expect(rate).toBeGreaterThan(3 * LIMIT);
  });
});

/** Polls until something listens on the TCP port inside the container (iperf3 takes a moment). */
function waitForListener(container: Container, port: number): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    const listening = container.netns.exec(["ss", "-Hltn", `sport = :${port}`]).trim();
    if (listening) return;
    execFileSync("sleep", ["0.1"]);
  }
  throw new Error(`iperf3 did not start listening on port ${port} in ${container.netns.name}`);
}
