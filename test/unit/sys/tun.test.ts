/**
 * TAP devices through /dev/net/tun (lib/sys tun.ts: TUNSETIFF, TUNSETOWNER, TUNSETGROUP,
 * TUNSETPERSIST by ioctl) with both system-call backends: koffi in this Node process, bun:ffi in
 * a Bun child process run inside the namespace. Each makes its tap in a namespace of its own.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NetNS } from "../../../lib/netns/index.ts";
import { SysError, attachTap, createPersistentTap, sys } from "../../../lib/sys/index.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";

let netns: TestNetns | undefined;
afterEach(() => netns?.remove());

interface TunLink {
  ifname: string;
  linkinfo: { info_kind: string; info_data: { type: string; pi: boolean; multi_queue: boolean; persist: boolean; user?: number; group?: number } };
}

function tapIn(ns: TestNetns, name: string): TunLink["linkinfo"]["info_data"] {
  const [link] = ipJson<TunLink[]>(["-d", "link", "show", "dev", name], ns.name);
  expect(link!.linkinfo.info_kind).toBe("tun");
  return link!.linkinfo.info_data;
}

describe("lib/sys taps with the koffi backend (Node)", () => {
  it("creates a persistent tap with owner and group in the namespace it is called in, and refuses a second of that name", () => {
    netns = createNetns("tps");
    const handle = NetNS.open(netns.path);
    try {
      handle.run(() => createPersistentTap({ name: "tp0", multiQueue: true, owner: 1234, group: 5678 }));
      expect(tapIn(netns, "tp0")).toMatchObject({ type: "tap", pi: false, multi_queue: true, persist: true, user: 1234, group: 5678 });
      expect(() => handle.run(() => createPersistentTap({ name: "tp0", multiQueue: false }))).toThrow(/ioctl\(TUNSETIFF\): EBUSY/);
    } finally {
      handle.close();
    }
  });

  it("attaches to the tap: a frame written to the descriptor arrives on the link, one sent out of the link is read", () => {
    netns = createNetns("tps");
    const handle = NetNS.open(netns.path);
    try {
      handle.run(() => createPersistentTap({ name: "tp1", multiQueue: false }));
      netns.exec(["ip", "link", "set", "tp1", "up"]);
      const fd = handle.run(() => attachTap("tp1"));
      try {
        const frame = Uint8Array.from([...Array(6).fill(0xff), 2, 0, 0, 0, 0, 1, 0x88, 0xb5, ...Array(46).fill(7)]);
        writeSync(fd, frame);
        const stats = ipJson<{ stats64: { rx: { packets: number } } }[]>(["-s", "link", "show", "dev", "tp1"], netns.name)[0]!;
        expect(stats.stats64.rx.packets).toBeGreaterThanOrEqual(1);
        // ping gets no answer; the ARP request it sends out of the tap is what the descriptor must hold.
        netns.exec(["ip", "addr", "add", "10.231.40.1/24", "dev", "tp1"]);
        spawnSync("ip", ["netns", "exec", netns.name, "ping", "-c", "1", "-W", "1", "10.231.40.2"], { stdio: "ignore" });
        const buffer = new Uint8Array(2048);
        const length = readSync(fd, buffer);
        expect(length).toBeGreaterThanOrEqual(42);
      } finally {
        closeSync(fd);
      }
    } finally {
      handle.close();
    }
  });

  it("reports a failed ioctl by value as a SysError with errno", () => {
    expect(() => sys.ioctlValue(-1, 0x400454cb, 1)).toThrow(SysError);
    expect(() => sys.ioctlValue(-1, 0x400454cb, 1)).toThrow(/ioctl: EBADF/);
  });
});

describe("lib/sys taps with the bun:ffi backend (the compiled executable's)", () => {
  it("creates the same tap and refuses the same things", () => {
    netns = createNetns("tps");
    const bun = join(process.cwd(), "node_modules/.bin/bun");
    const probe = join(__dirname, "tun-probe.ts");
    const output = execFileSync("ip", ["netns", "exec", netns.name, bun, probe, "tp2"], { encoding: "utf8" });
    const outcome = JSON.parse(output.trim().split("\n").at(-1)!);
    expect(outcome).toMatchObject({ backend: "bun", created: true });
    expect(outcome.again).toMatch(/ioctl\(TUNSETIFF\): EBUSY/);
    expect(outcome.badFd).toMatch(/ioctl: EBADF/);
    expect(tapIn(netns, "tp2")).toMatchObject({ type: "tap", pi: false, multi_queue: true, persist: true, user: 1234, group: 5678 });
  });
});
