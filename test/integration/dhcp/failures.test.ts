/**
 * The dhcp plugin and daemon when things go wrong: a server that never answers, one whose
 * replies are malformed or unusable, one that stops answering or refuses a renewal (the lease
 * is lost and its address taken away), a daemon that is not running, a bad configuration.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callPlugin } from "../../helpers/cni.ts";
import { createNetns, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { Container, Daemon, Lan, waitFor, type LanOptions } from "./harness.ts";

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function lan(options: LanOptions = {}): Promise<Lan> {
  const made = new Lan(options);
  opened.push(made);
  await made.ready();
  return made;
}

async function daemon(flags: string[]): Promise<Daemon> {
  const made = new Daemon({ flags });
  opened.push(made);
  await made.ready();
  return made;
}

function container(on: Lan): Container {
  const made = new Container(on);
  opened.push({ close: () => made.remove() });
  return made;
}

/** Host ends of veth pairs in the LAN namespace: what a failed ADD must not leave behind. */
function vethsOn(network: Lan): string[] {
  return network.netns.exec(["ip", "-o", "link", "show", "type", "veth"]).split("\n").filter((line) => line.trim() !== "");
}

describe("a server that does not answer, or answers wrongly", () => {
  it("ADD ends with code 11 within -resendtimeout when no server answers, and leaves nothing", async () => {
    const network = await lan({ withoutServer: true });
    const ours = await daemon(["-timeout", "1s", "-resendtimeout", "4s"]);
    const c = container(network);
    const started = Date.now();
    const outcome = c.call("ADD", c.config({ daemonSocketPath: ours.socketPath }));
    const seconds = (Date.now() - started) / 1000;
    expect(outcome.json).toMatchObject({ code: 11 });
    expect(outcome.json.msg).toMatch(/no DHCP lease for eth0 .* within 4 s \(-resendtimeout\): \d+ DHCPDISCOVERs? sent/);
    expect(seconds).toBeGreaterThanOrEqual(4);
    expect(seconds).toBeLessThan(30); // generous: 4 s of DHCP and the plugins around it
    expect(linkExists("eth0", c.netns.name)).toBe(false);
    expect(vethsOn(network)).toEqual([]);
  });

  it("ignores malformed replies and says so when no good one comes", async () => {
    const network = await lan({ fakeServer: "malformed" });
    const ours = await daemon(["-timeout", "1s", "-resendtimeout", "4s"]);
    const c = container(network);
    const outcome = c.call("ADD", c.config({ daemonSocketPath: ours.socketPath }));
    expect(outcome.json).toMatchObject({ code: 11 });
    expect(outcome.json.msg).toMatch(/malformed repl(y was|ies were) ignored, the last from .*: malformed DHCP message: option 12 in the options claims 200 bytes/);
    expect(network.log()).toContain("sent OFFER");
    expect(vethsOn(network)).toEqual([]);
  });

  it("refuses a lease without a subnet mask (code 106) and gives it back to the server", async () => {
    const network = await lan({ fakeServer: "no-mask" });
    const ours = await daemon(["-timeout", "1s", "-resendtimeout", "6s"]);
    const c = container(network);
    const outcome = c.call("ADD", c.config({ daemonSocketPath: ours.socketPath }));
    expect(outcome.json).toMatchObject({ code: 106 });
    expect(outcome.json.msg).toContain("no subnet mask (option 1)");
    await waitFor("the DHCPRELEASE at the server", () => network.log().includes("RELEASE"), 5000);
    expect(vethsOn(network)).toEqual([]);
  });
});

describe("an attachment the daemon cannot reach", () => {
  it("answers code 4 naming the namespace path that is no namespace, or the interface that is missing", async () => {
    const ours = await daemon(["-timeout", "1s", "-resendtimeout", "4s"]);
    const netns = createNetns("dhn");
    opened.push({ close: () => netns.remove() });
    const add = (path: string) =>
      callPlugin(`${OUR_BIN}/dhcp`, { command: "ADD", containerId: "dh-unreachable", netns: path, ifname: "eth0", config: { cniVersion: "1.0.0", name: "lan", type: "dhcp", ipam: { type: "dhcp", daemonSocketPath: ours.socketPath } } });
    const notNamespace = add("/etc/hostname");
    expect(notNamespace.json).toMatchObject({ code: 4 });
    expect(notNamespace.json.msg).toContain("/etc/hostname is not a network namespace");
    const noInterface = add(netns.path);
    expect(noInterface.json).toMatchObject({ code: 4 });
    expect(noInterface.json.msg).toContain(`there is no interface eth0 in ${netns.path}`);
  });
});

describe("losing a lease", () => {
  it("rebinds when renewing goes unanswered, and takes the address away when the lease ends", async () => {
    const network = await lan({ fakeServer: "vanishing" });
    const ours = await daemon(["-timeout", "1s", "-resendtimeout", "10s"]);
    const c = container(network);
    const config = c.config({ daemonSocketPath: ours.socketPath });
    const result = c.call("ADD", config).json;
    expect(c.addresses()).toEqual([result.ips[0].address]);
    expect(c.routes()).toContainEqual(expect.objectContaining({ dst: "default" }));
    // The lease lasts 8 s: renewing from 2 s, rebinding from 4 s, gone at 8 s.
    await waitFor("the address to be taken away", () => c.addresses().length === 0, 20_000);
    expect(c.routes()).toEqual([]);
    const log = ours.log();
    expect(log).toMatch(/renewal unanswered .*; rebinding/);
    expect(log).toMatch(/lost .*: the lease ended with no server answering.*; removed it from eth0/);
    expect(network.log()).toMatch(/RENEW-OR-REBIND/);
    expect(c.call("DEL", config).status).toBe(0);
  });

  it("takes the address away at once when the server refuses the renewal (DHCPNAK)", async () => {
    const network = await lan({ fakeServer: "nak-on-renew" });
    const ours = await daemon(["-timeout", "1s", "-resendtimeout", "10s"]);
    const c = container(network);
    const config = c.config({ daemonSocketPath: ours.socketPath });
    const result = c.call("ADD", config).json;
    expect(c.addresses()).toEqual([result.ips[0].address]);
    await waitFor("the address to be taken away", () => c.addresses().length === 0, 15_000);
    expect(ours.log()).toMatch(/lost .*refused the lease \(DHCPNAK\)/);
    expect(c.call("DEL", config).status).toBe(0);
  });
});

describe("the plugin without a daemon, and with a bad configuration", () => {
  const socketPath = "/run/dh-no-daemon-here/dhcp.sock";
  let netns: TestNetns;
  beforeAll(() => {
    netns = createNetns("dhn");
  });
  afterAll(() => netns.remove());
  const call = (command: "ADD" | "DEL" | "CHECK" | "STATUS", ipam: object = { daemonSocketPath: socketPath }, cniVersion = "1.0.0") =>
    callPlugin(`${OUR_BIN}/dhcp`, {
      command,
      containerId: "dh-nodaemon",
      netns: netns.path,
      ifname: "eth0",
      config: { cniVersion, name: "lan", type: "dhcp", ipam: { type: "dhcp", ...ipam } },
    });

  it("ADD answers code 11 and says how to start the daemon", () => {
    const outcome = call("ADD");
    expect(outcome.json).toMatchObject({ code: 11 });
    expect(outcome.json.msg).toContain(`nothing listens on ${socketPath}`);
    expect(outcome.json.msg).toContain("dhcp daemon");
  });

  it("DEL succeeds, as no daemon holds the lease", () => {
    const outcome = call("DEL");
    expect(outcome.status).toBe(0);
    expect(outcome.stderr).toContain("no lease to release");
  });

  it("STATUS answers code 50 naming the socket", () => {
    const outcome = call("STATUS", { daemonSocketPath: socketPath }, "1.1.0");
    expect(outcome.json).toMatchObject({ code: 50 });
    expect(outcome.json.msg).toContain(socketPath);
  });

  it("refuses options it cannot send (code 7, naming the field) before calling any daemon", () => {
    for (const [ipam, field] of [
      [{ provide: [{ option: "hostname", value: "x" }] }, "ipam.provide[0].option"],
      [{ provide: [{ option: "12", value: "x".repeat(256) }] }, "ipam.provide[0].value"],
      [{ request: [{ option: "300" }] }, "ipam.request[0].option"],
      [{ priority: "high" }, "ipam.priority"],
    ] as const) {
      const outcome = call("ADD", { daemonSocketPath: socketPath, ...ipam });
      expect(outcome.json, JSON.stringify(ipam)).toMatchObject({ code: 7 });
      expect(outcome.json.msg).toContain(field);
    }
  });
});
