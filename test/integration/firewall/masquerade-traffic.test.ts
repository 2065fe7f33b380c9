import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandExecutor, setupMasquerade, teardownMasquerade } from "../../../lib/firewall/index.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";

/**
 * A container namespace behind a router namespace whose masquerading our code sets up, and a
 * remote namespace beyond the router that has no route back to the container's subnet. The
 * remote can answer the container only when the router rewrote the source to its own address;
 * a CGI on the remote's web server tells which source address it saw.
 */
interface Topology {
  container: TestNetns;
  router: TestNetns;
  remote: TestNetns;
  inner: ReturnType<typeof randomSubnets>;
  outer: ReturnType<typeof randomSubnets>;
  server: ChildProcess;
  wwwDir: string;
}

function ip(args: string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
}

function buildTopology(): Topology {
  const inner = randomSubnets();
  let outer = randomSubnets();
  while (outer.v4Prefix === inner.v4Prefix) outer = randomSubnets();
  const container = createNetns("fwc");
  const router = createNetns("fwr");
  const remote = createNetns("fwx");
  const wwwDir = mkdtempSync(join(tmpdir(), "fw-www-"));
  const topology: Topology = { container, router, remote, inner, outer, server: undefined as unknown as ChildProcess, wwwDir };
  try {
    const [routerIn, containerEth, routerOut, remoteEth] = ["fvi", "fvc", "fvo", "fvx"].map(uniqueName) as [string, string, string, string];
    ip(["link", "add", routerIn, "netns", router.name, "type", "veth", "peer", "name", containerEth, "netns", container.name]);
    ip(["link", "add", routerOut, "netns", router.name, "type", "veth", "peer", "name", remoteEth, "netns", remote.name]);
    for (const [ns, dev, prefixes] of [
      [container, containerEth, [`${inner.v4Prefix}.2/24`, `${inner.v6Prefix}::2/64`]],
      [router, routerIn, [`${inner.v4Prefix}.1/24`, `${inner.v6Prefix}::1/64`]],
      [router, routerOut, [`${outer.v4Prefix}.1/24`, `${outer.v6Prefix}::1/64`]],
      [remote, remoteEth, [`${outer.v4Prefix}.2/24`, `${outer.v6Prefix}::2/64`]],
    ] as const) {
      for (const address of prefixes) ip(["-n", ns.name, "addr", "add", address, "dev", dev, "nodad"]);
      ip(["-n", ns.name, "link", "set", dev, "up"]);
      ip(["-n", ns.name, "link", "set", "lo", "up"]);
    }
    ip(["-n", container.name, "route", "add", "default", "via", `${inner.v4Prefix}.1`]);
    ip(["-n", container.name, "-6", "route", "add", "default", "via", `${inner.v6Prefix}::1`]);
    router.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);

    mkdirSync(join(wwwDir, "cgi-bin"));
    writeFileSync(join(wwwDir, "cgi-bin", "addr"), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n');
    chmodSync(join(wwwDir, "cgi-bin", "addr"), 0o755);
    topology.server = spawn("ip", ["netns", "exec", remote.name, "busybox", "httpd", "-f", "-p", "8080", "-h", wwwDir], {
      stdio: "ignore",
    });
    waitForServer(remote, `http://${outer.v4Prefix}.2:8080/cgi-bin/addr`);
    return topology;
  } catch (error) {
    removeTopology(topology);
    throw error;
  }
}

function waitForServer(remote: TestNetns, url: string): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (spawnSync("ip", ["netns", "exec", remote.name, "curl", "-s", "--max-time", "1", url]).status === 0) return;
    spawnSync("sleep", ["0.1"]);
  }
  throw new Error(`the remote's web server did not come up at ${url}`);
}

function removeTopology(topology: Topology): void {
  topology.server?.kill();
  for (const ns of [topology.container, topology.router, topology.remote]) ns.remove();
  rmSync(topology.wwwDir, { recursive: true, force: true });
}

/** One ping from the container: whether an answer came back within a second. */
function pingFromContainer(topology: Topology, address: string): boolean {
  return spawnSync("ip", ["netns", "exec", topology.container.name, "ping", "-c", "1", "-W", "1", address]).status === 0;
}

/** The source address the remote saw for an HTTP request from the container, or undefined. */
function sourceSeenByRemote(topology: Topology, host: string): string | undefined {
  const result = spawnSync(
    "ip",
    ["netns", "exec", topology.container.name, "curl", "-s", "--max-time", "2", `http://${host}:8080/cgi-bin/addr`],
    { encoding: "utf8" },
  );
  if (result.status !== 0) return undefined;
  return result.stdout.trim().replace(/^\[|\]$/g, "").replace(/^::ffff:/, "");
}

describe.each(["iptables", "nftables"] as const)("masquerading real traffic with %s", (backend) => {
  let topology: Topology;
  let request: { network: string; containerId: string; ifname: string; addresses: string[] };
  const options = () => ({ backend, executor: commandExecutor(["ip", "netns", "exec", topology.router.name]) });

  beforeAll(() => {
    topology = buildTopology();
    request = {
      network: "traffic",
      containerId: "ctr1",
      ifname: "eth0",
      addresses: [`${topology.inner.v4Prefix}.2/24`, `${topology.inner.v6Prefix}::2/64`],
    };
  });
  afterAll(() => removeTopology(topology));

  it("gets no answer from the remote while nothing masquerades (it has no route back)", () => {
    expect(pingFromContainer(topology, `${topology.outer.v4Prefix}.2`)).toBe(false);
    expect(pingFromContainer(topology, `${topology.outer.v6Prefix}::2`)).toBe(false);
  });

  it("reaches the remote after setup, which sees the router's address as the source", () => {
    setupMasquerade(request, options());
    expect(pingFromContainer(topology, `${topology.outer.v4Prefix}.2`)).toBe(true);
    expect(pingFromContainer(topology, `${topology.outer.v6Prefix}::2`)).toBe(true);
    expect(sourceSeenByRemote(topology, `${topology.outer.v4Prefix}.2`)).toBe(`${topology.outer.v4Prefix}.1`);
    expect(sourceSeenByRemote(topology, `[${topology.outer.v6Prefix}::2]`)).toBe(`${topology.outer.v6Prefix}::1`);
  });

  it("gets no answer for new connections after teardown", () => {
    teardownMasquerade(request, options());
    expect(sourceSeenByRemote(topology, `${topology.outer.v4Prefix}.2`)).toBeUndefined();
    expect(pingFromContainer(topology, `${topology.outer.v4Prefix}.2`)).toBe(false);
  });
});
