/**
 * lib/link against the kernel: the attachment context's handles, veth pairs made across
 * namespaces, waiting for carrier, refused settings, DEL's order, and the kinds this kernel
 * lacks. Host-side links are made in this host with per-run names and removed afterwards.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { CniError, ErrorCode } from "../../../lib/core/index.ts";
import {
  createLink,
  createVethPair,
  deleteOrphanedHostVeth,
  releaseAndDeleteInterface,
  setMac,
  setMtu,
  waitUntilUp,
  withAttachment,
  withDelAttachment,
  type Attachment,
} from "../../../lib/link/index.ts";
import type { NewLink } from "../../../lib/netlink/index.ts";
import { Rollback } from "../../../lib/skel/index.ts";
import { createNetns, deleteLinkIfExists, ipJson, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { uniqueName } from "../../helpers/tag.ts";

const scratch = mkdtempSync(join(tmpdir(), "link-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const regularFile = join(scratch, "file");
writeFileSync(regularFile, "");
const directory = join(scratch, "dir");
mkdirSync(directory);

/** This process's open file descriptors: what the attachment context must give back. */
function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** The error an async call rejects with (a test failure when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

let netns: TestNetns;
const hostLinks: string[] = [];

beforeEach(() => {
  netns = createNetns("shl");
});
afterEach(() => {
  for (const name of hostLinks.splice(0)) deleteLinkIfExists(name);
  netns.remove();
});

/** A veth pair from the host into the test's namespace, registered for clean-up. */
function pair(attachment: Attachment, rollback = new Rollback()) {
  const made = createVethPair(attachment, { containerIfname: "eth0", hostNamePrefix: "shv" }, rollback);
  hostLinks.push(made.host.name);
  return made;
}

describe("the attachment context", () => {
  it("opens a socket on each side and gives every handle back afterwards", async () => {
    const before = openFds();
    const names = await withAttachment(netns.path, ({ host, container }) => ({
      host: host.links().map((link) => link.name),
      container: container.links().map((link) => link.name),
    }));
    expect(names.container).toEqual(["lo"]);
    expect(names.host).toContain("lo");
    expect(names.host.length).toBeGreaterThan(1);
    expect(openFds()).toBe(before);
  });

  it("closes everything when the work throws, and passes the error on", async () => {
    const before = openFds();
    const error = await rejection(withAttachment(netns.path, () => Promise.reject(new Error("work failed"))));
    expect((error as Error).message).toBe("work failed");
    expect(openFds()).toBe(before);
  });

  it.each([
    ["missing", () => join(scratch, "missing"), "does not exist"],
    ["a regular file", () => regularFile, "is not a network namespace"],
    ["a directory", () => directory, "is not a network namespace"],
    ["a namespace of another kind", () => "/proc/self/ns/mnt", "is not a network namespace"],
  ])("refuses CNI_NETNS that is %s with code 4, leaking no handle", async (_what, path, reason) => {
    const before = openFds();
    const error = await rejection(withAttachment(path(), () => undefined));
    expect(error).toBeInstanceOf(CniError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidEnvironment, message: `CNI_NETNS: ${path()} ${reason}` });
    expect(openFds()).toBe(before);
  });

  it.each([
    ["empty", () => ""],
    ["missing", () => join(scratch, "missing")],
    ["a regular file", () => regularFile],
    ["a directory", () => directory],
  ])("gives DEL only the host side when CNI_NETNS is %s, leaking no handle", async (_what, path) => {
    const before = openFds();
    const sides = await withDelAttachment(path(), ({ host, netns: handle, container }) => ({
      host: host.linkByName("lo") !== undefined,
      container: container === undefined && handle === undefined,
    }));
    expect(sides).toEqual({ host: true, container: true });
    expect(openFds()).toBe(before);
  });

  it("gives DEL the whole attachment when the namespace is there", async () => {
    const present = await withDelAttachment(netns.path, ({ container }) => container?.linkByName("lo") !== undefined);
    expect(present).toBe(true);
  });
});

describe("veth pairs", () => {
  it("makes the container end inside the namespace with its name, MTU and MAC, and the host end under a random name", async () => {
    await withAttachment(netns.path, (attachment) => {
      const made = createVethPair(attachment, { containerIfname: "eth0", hostNamePrefix: "shv", mtu: 1400, containerMac: "0a:58:0a:01:00:09" }, new Rollback());
      hostLinks.push(made.host.name);
      expect(made.host.name).toMatch(/^shv[0-9a-f]{8}$/);
      expect(made.container).toMatchObject({ name: "eth0", mtu: 1400, mac: "0a:58:0a:01:00:09", kind: "veth" });
      expect(made.host).toMatchObject({ mtu: 1400, kind: "veth", up: false });
      expect(ipJson<{ ifname: string }[]>(["link", "show", "eth0"], netns.name)[0]!.ifname).toBe("eth0");
      expect(linkExists(made.host.name)).toBe(true);
    });
  });

  it("deletes the pair when the ADD rolls back", async () => {
    let hostName = "";
    const failure = await rejection(
      withAttachment(netns.path, (attachment) =>
        Rollback.guard(async (rollback) => {
          hostName = pair(attachment, rollback).host.name;
          throw new Error("a later step failed");
        }),
      ),
    );
    expect((failure as Error).message).toBe("a later step failed");
    expect(linkExists(hostName)).toBe(false);
    expect(linkExists("eth0", netns.name)).toBe(false);
  });

  it("refuses a container interface name that is taken with code 4 naming CNI_IFNAME", async () => {
    await withAttachment(netns.path, (attachment) => {
      pair(attachment);
      expect(() => createVethPair(attachment, { containerIfname: "eth0" }, new Rollback())).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidEnvironment, message: expect.stringMatching(/^CNI_IFNAME: interface eth0 already exists/) }),
      );
    });
  });

  it("takes a fixed host name, and fails when that name is taken", async () => {
    const hostName = uniqueName("shf");
    hostLinks.push(hostName);
    await withAttachment(netns.path, (attachment) => {
      const made = createVethPair(attachment, { containerIfname: "eth0", hostName }, new Rollback());
      expect(made.host.name).toBe(hostName);
      expect(() => createVethPair(attachment, { containerIfname: "eth1", hostName }, new Rollback())).toThrow(/EEXIST/);
    });
  });

  it("waits until a link is up, and says how it stayed when it does not come up", async () => {
    await withAttachment(netns.path, async (attachment) => {
      const made = pair(attachment);
      attachment.host.setLink(made.host.index, { up: true });
      // The container end is still down, so the host end has no carrier.
      await expect(waitUntilUp(attachment.host, made.host, [0, 20])).rejects.toMatchObject({
        code: ErrorCode.KernelOperationFailed,
        message: expect.stringMatching(new RegExp(`^${made.host.name} stayed (down|lowerlayerdown) instead of coming up$`)),
      });
      attachment.container.setLink(made.container.index, { up: true });
      expect((await waitUntilUp(attachment.host, made.host)).operState).toBe("up");
    });
  });
});

describe("settings the kernel refuses", () => {
  it("are code 7 naming the field and the value", async () => {
    await withAttachment(netns.path, (attachment) => {
      const { container } = pair(attachment);
      expect(() => setMtu(attachment.container, container, 70000)).toThrow(expect.objectContaining({ code: 7, message: expect.stringMatching(/^invalid config: mtu=70000: /) }));
      expect(() => setMac(attachment.container, container, "01:00:5e:00:00:01", "args.cni.mac")).toThrow(
        expect.objectContaining({ code: 7, message: expect.stringMatching(/^invalid config: args.cni.mac="01:00:5e:00:00:01": /) }),
      );
      setMtu(attachment.container, container, 1280);
      setMac(attachment.container, container, "0a:58:0a:01:00:0a");
      expect(attachment.container.linkByIndex(container.index)).toMatchObject({ mtu: 1280, mac: "0a:58:0a:01:00:0a" });
    });
  });
});

describe("DEL of a container interface", () => {
  it("reads the addresses, releases them while the interface is still there, then deletes it", async () => {
    const hostName = await withAttachment(netns.path, (attachment) => {
      const made = pair(attachment);
      attachment.container.addAddress({ index: made.container.index, address: "10.251.0.5", prefixLength: 24 });
      return made.host.name;
    });
    const seenDuringRelease: boolean[] = [];
    const addresses = await withDelAttachment(netns.path, (attachment) =>
      releaseAndDeleteInterface(attachment, "eth0", async () => {
        seenDuringRelease.push(linkExists("eth0", netns.name));
      }),
    );
    expect(seenDuringRelease).toEqual([true]);
    expect(addresses).toEqual(["10.251.0.5/24"]);
    expect(linkExists("eth0", netns.name)).toBe(false);
    expect(linkExists(hostName)).toBe(false);
  });

  it("still releases when the container side is gone, and knows no addresses", async () => {
    const released: string[] = [];
    const addresses = await withDelAttachment(regularFile, (attachment) => releaseAndDeleteInterface(attachment, "eth0", async () => void released.push("ipam")));
    expect(released).toEqual(["ipam"]);
    expect(addresses).toBeUndefined();
  });

  it("deletes an orphaned host veth whose peer lives in another namespace, only when it is ours", async () => {
    const hostName = await withAttachment(netns.path, (attachment) => pair(attachment).host.name);
    await withDelAttachment("", ({ host }) => deleteOrphanedHostVeth(host, hostName, () => false));
    expect(linkExists(hostName)).toBe(true);
    await withDelAttachment("", ({ host }) => deleteOrphanedHostVeth(host, hostName, (link) => link.name === hostName));
    expect(linkExists(hostName)).toBe(false);
  });

  it("leaves a veth whose peer is on the host too", async () => {
    const name = uniqueName("sho");
    hostLinks.push(name);
    execFileSync("ip", ["link", "add", name, "type", "veth", "peer", "name", `${name}p`]);
    await withDelAttachment("", ({ host }) => deleteOrphanedHostVeth(host, name, () => true));
    expect(linkExists(name)).toBe(true);
  });
});

describe("link kinds this kernel may lack", () => {
  const kinds: NewLink[] = [
    { kind: "dummy", name: "shd0" },
    { kind: "vrf", name: "shvrf0", table: 100 },
    { kind: "ipvlan", name: "shipv0", parentIndex: 1 },
    { kind: "vlan", name: "shvl0", parentIndex: 1, vlanId: 10 },
  ];

  it.each(kinds)("creates a $kind link, or answers code 2 naming the module it needs", async (spec) => {
    await withAttachment(netns.path, ({ container }) => {
      // Inside the namespace, index 1 is its lo: a lower device ipvlan and vlan both refuse
      // (EINVAL) when the kernel has them, and never reach when it lacks them.
      let outcome: unknown;
      try {
        createLink(container, spec);
        outcome = "created";
      } catch (error) {
        outcome = error;
      }
      if (outcome === "created") {
        expect(container.linkByName(spec.name)).toMatchObject({ kind: spec.kind });
      } else if ((outcome as CniError).code === ErrorCode.UnsupportedField) {
        const module = spec.kind === "vlan" ? "8021q" : spec.kind;
        expect((outcome as CniError).message).toContain(`this kernel cannot create ${spec.kind} links, which need the ${module} module`);
      } else {
        // The kernel has the kind and refused lo as the lower device.
        expect((outcome as Error).message).toMatch(/EINVAL|EOPNOTSUPP/);
        expect(spec.kind === "ipvlan" || spec.kind === "vlan").toBe(true);
      }
    });
  });
});
