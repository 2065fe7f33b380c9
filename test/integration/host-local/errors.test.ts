import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostLocalNetwork } from "./harness.ts";

let net: HostLocalNetwork;
beforeEach(() => {
  net = new HostLocalNetwork();
});
afterEach(() => net.remove());

/** Runs a failing ADD and checks its code, message, and that it left no lease behind. */
function expectAddFails(
  config: object | string,
  code: number,
  message: string,
  options: Parameters<HostLocalNetwork["call"]>[2] = {},
): void {
  const before = net.leases();
  const add = net.call("ADD", config, options);
  expect(add.status, add.stdout).toBe(1);
  expect(add.json).toMatchObject({ code, msg: expect.stringContaining(message) });
  expect(net.leases()).toEqual(before);
}

function fifo(): string {
  const path = join(net.dataDir, "fifo");
  execFileSync("mkfifo", [path]);
  return path;
}

/** A file of that size taking no space (a hole). */
function sparseFile(size: number): string {
  const path = join(net.dataDir, "big");
  execFileSync("truncate", ["-s", String(size), path]);
  return path;
}

describe("host-local refuses bad input with the right code and leaves no lease", () => {
  it("code 1: a spec version it does not speak", () => {
    expectAddFails(net.config({ cniVersion: "9.9.9" }), 1, "incompatible CNI versions");
  });

  it("code 1: two IPv4 range sets in a CNI 0.2.0 configuration", () => {
    const config = net.config({ cniVersion: "0.2.0", ipam: { ranges: [[{ subnet: net.subnets.v4 }], [{ subnet: "10.19.0.0/24" }]] } });
    expectAddFails(config, 1, "CNI version 0.2.0 does not support more than one IPv4 address");
  });

  it("code 4: a CNI_ARGS IP that is not an address", () => {
    expectAddFails(net.config(), 4, 'CNI_ARGS: IP="bogus"', { args: "IP=bogus" });
  });

  it("code 4: an unknown CNI_ARGS key without IgnoreUnknown, and none with it", () => {
    expectAddFails(net.config(), 4, "CNI_ARGS: unknown keys FOO", { args: "FOO=1" });
    expect(net.call("ADD", net.config(), { args: "FOO=1;IgnoreUnknown=1" }).status).toBe(0);
  });

  it("code 4: a missing CNI_CONTAINERID", () => {
    expectAddFails(net.config(), 4, "CNI_CONTAINERID", { env: { CNI_CONTAINERID: undefined } });
  });

  it("code 6: a configuration that is not JSON", () => {
    expectAddFails("{ not json", 6, "not valid JSON");
  });

  it("code 7: a subnet with an impossible prefix, naming field and value", () => {
    const config = net.config({ ipam: { ranges: [[{ subnet: net.subnets.v4 }, { subnet: "10.0.0.0/33" }]] } });
    expectAddFails(config, 7, 'invalid config: ipam.ranges[0][1].subnet="10.0.0.0/33": has an invalid prefix length');
  });

  it("code 7: a value of the wrong type", () => {
    expectAddFails(net.config({ ipam: { ranges: [[{ subnet: 10 }]] } }), 7, "invalid config: ipam.ranges[0][0].subnet=10");
  });

  it("code 7: no ipam section", () => {
    const { ipam: _, ...config } = net.config();
    expectAddFails(config, 7, "invalid config: ipam=(missing)");
  });

  it("code 7: a requested address that is a gateway", () => {
    expectAddFails(net.config(), 7, `requested IP ${net.subnets.v4Prefix}.1 is the gateway of range set 0`, { args: `IP=${net.subnets.v4Prefix}.1` });
  });

  it("code 7: a resolvConf that cannot be read, naming it", () => {
    const missing = join(net.dataDir, "missing.conf");
    expectAddFails(net.config({ ipam: { resolvConf: missing } }), 7, `invalid config: ipam.resolvConf=${JSON.stringify(missing)}: cannot be read`);
  });

  it.each([
    ["/dev/zero, which never ends", () => "/dev/zero", "is not a regular file (it is a character device)"],
    ["a FIFO, which blocks", () => fifo(), "is not a regular file (it is a FIFO)"],
    ["a directory", () => net.dataDir, "is not a regular file (it is a directory)"],
    ["a 2 GB file", () => sparseFile(2 * 1024 ** 3), "is 2147483648 bytes, more than the 65536"],
  ])("code 7 at once, reading nothing: a resolvConf that is %s", (_what, pathOf, reason) => {
    const path = pathOf();
    expectAddFails(net.config({ ipam: { resolvConf: path } }), 7, `invalid config: ipam.resolvConf=${JSON.stringify(path)}: ${reason}`);
  });

  it("code 7: a data directory that is a file, naming ipam.dataDir; DEL there exits 0", () => {
    const file = join(net.dataDir, "a-file");
    writeFileSync(file, "");
    expectAddFails(net.config({ ipam: { dataDir: file } }), 7, `invalid config: ipam.dataDir=${JSON.stringify(file)}`);
    expect(net.call("DEL", net.config({ ipam: { dataDir: file } })).status).toBe(0);
  });

  it("code 103: no free address, releasing what earlier range sets reserved", () => {
    const { v4Prefix } = net.subnets;
    const tiny = net.config({ ipam: { ranges: [[{ subnet: net.subnets.v6 }], [{ subnet: `${v4Prefix}.0/30` }]] } });
    expect(net.call("ADD", tiny, { containerId: "first" }).status).toBe(0);
    expectAddFails(tiny, 103, `no IP addresses available in range set 1 (${v4Prefix}.1-${v4Prefix}.2)`, { containerId: "second" });
  });

  it("code 105: a second ADD for the same attachment", () => {
    expect(net.call("ADD", net.config()).status).toBe(0);
    expectAddFails(net.config(), 105, "is already reserved for container c1 interface eth0");
  });
});
