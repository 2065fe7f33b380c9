import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IPAddress } from "../../../lib/ip/index.ts";
import { HostLocalStore, OWNER_INDEX_DIR } from "../../../lib/ipam/index.ts";

let dataDir: string;
let dir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hostlocal-store-"));
  dir = join(dataDir, "net1");
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const ip = (text: string) => IPAddress.parse(text);
const alice = { containerId: "alice", ifname: "eth0" };
const bob = { containerId: "bob", ifname: "eth0" };

/** Opens the store, runs body, closes it (saving the index), and returns body's result. */
function withStore<T>(body: (store: HostLocalStore) => T): T {
  const store = HostLocalStore.open(dataDir, "net1");
  try {
    return body(store);
  } finally {
    expect(store.close()).toBeUndefined();
  }
}

function trustedOnOpen(): boolean {
  return withStore((store) => store.indexWasTrusted);
}

/** What the reference writes when it reserves, without going through our store. */
function referenceReserve(address: string, content: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, address), content);
}

describe("the disk store's files, as the reference writes them", () => {
  it("writes a lease named after the address holding <id>\\r\\n<ifname>, and the last reserved address", () => {
    withStore((store) => {
      expect(store.reserve(ip("10.0.0.2"), { containerId: " alice ", ifname: "eth0" }, 0)).toBe(true);
      expect(store.reserve(ip("FD00:AB::2"), alice, 1)).toBe(true);
    });
    expect(readFileSync(join(dir, "10.0.0.2"), "latin1")).toBe("alice\r\neth0");
    expect(readFileSync(join(dir, "fd00:ab::2"), "latin1")).toBe("alice\r\neth0");
    expect(readFileSync(join(dir, "last_reserved_ip.0"), "latin1")).toBe("10.0.0.2");
    expect(readFileSync(join(dir, "last_reserved_ip.1"), "latin1")).toBe("fd00:ab::2");
    expect(statSync(join(dir, "10.0.0.2")).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual([OWNER_INDEX_DIR, "10.0.0.2", "fd00:ab::2", "last_reserved_ip.0", "last_reserved_ip.1", "lock"]);
  });

  it("refuses to reserve an address whose file exists, whatever it holds", () => {
    referenceReserve("10.0.0.2", "");
    withStore((store) => expect(store.reserve(ip("10.0.0.2"), alice, 0)).toBe(false));
    expect(readFileSync(join(dir, "10.0.0.2"), "latin1")).toBe("");
  });

  it("reads the last reserved address exactly as the reference does (no trimming)", () => {
    withStore((store) => store.reserve(ip("10.0.0.9"), alice, 3));
    withStore((store) => expect(store.lastReservedIP(3)?.toString()).toBe("10.0.0.9"));
    writeFileSync(join(dir, "last_reserved_ip.3"), "10.0.0.9\n");
    withStore((store) => {
      expect(store.lastReservedIP(3)).toBeUndefined();
      expect(store.lastReservedIP(4)).toBeUndefined();
    });
  });
});

describe("releasing and finding by attachment", () => {
  it("releases the attachment's leases and nothing else", () => {
    withStore((store) => {
      store.reserve(ip("10.0.0.2"), alice, 0);
      store.reserve(ip("fd00::2"), alice, 1);
      store.reserve(ip("10.0.0.3"), bob, 0);
      store.reserve(ip("10.0.0.4"), { containerId: "alice", ifname: "eth1" }, 0);
    });
    withStore((store) => expect(store.release(alice).map(String).sort()).toEqual(["10.0.0.2", "fd00::2"]));
    expect(readdirSync(dir).filter((name) => IPAddress.tryParse(name)).sort()).toEqual(["10.0.0.3", "10.0.0.4"]);
    withStore((store) => expect(store.release(alice)).toEqual([]));
  });

  it("releases leases in the oldest format (container ID only) when the attachment has no other", () => {
    referenceReserve("10.0.0.2", "alice");
    referenceReserve("10.0.0.3", "alice\r\neth1");
    withStore((store) => expect(store.release(alice).map(String)).toEqual(["10.0.0.2"]));
    referenceReserve("10.0.0.5", "alice");
    referenceReserve("10.0.0.6", "alice\r\neth0");
    // With a lease of its own, only that one goes, as in the reference's ReleaseByID.
    withStore((store) => expect(store.release(alice).map(String)).toEqual(["10.0.0.6"]));
  });

  it("matches lease content with surrounding whitespace trimmed, as the reference does", () => {
    referenceReserve("10.0.0.2", "  alice\r\neth0\n");
    withStore((store) => expect(store.release(alice).map(String)).toEqual(["10.0.0.2"]));
  });

  it("finds leases as GetByID (both formats) and FindByID (oldest format as a fallback) do", () => {
    referenceReserve("10.0.0.2", "alice");
    withStore((store) => {
      expect(store.leasesOf(alice).map(String)).toEqual(["10.0.0.2"]);
      expect(store.findLeases(alice).map(String)).toEqual(["10.0.0.2"]);
      store.reserve(ip("10.0.0.3"), alice, 0);
      expect(store.leasesOf(alice).map(String).sort()).toEqual(["10.0.0.2", "10.0.0.3"]);
      expect(store.findLeases(alice).map(String)).toEqual(["10.0.0.3"]);
      expect(store.holderOf(ip("10.0.0.3"))).toBe("alice\r\neth0");
    });
  });

  it("undoes one reservation only when this attachment holds it", () => {
    withStore((store) => {
      store.reserve(ip("10.0.0.2"), alice, 0);
      store.reserve(ip("10.0.0.3"), bob, 0);
      store.unreserve(ip("10.0.0.2"), alice);
      store.unreserve(ip("10.0.0.3"), alice);
      expect(store.leasesOf(alice)).toEqual([]);
    });
    expect(readdirSync(dir)).toContain("10.0.0.3");
    expect(readdirSync(dir)).not.toContain("10.0.0.2");
  });

  it("lists reserved addresses by file name only, in canonical form", () => {
    referenceReserve("10.0.0.2", "x");
    referenceReserve("fd00::2", "x");
    referenceReserve("fd00:0::3", "x"); // not the name the allocator would try for fd00::3
    withStore((store) => expect(store.reservedAddresses().map(String).sort()).toEqual(["10.0.0.2", "fd00::2"]));
  });

  it("scans every lease with its key", () => {
    referenceReserve("10.0.0.2", "alice");
    referenceReserve("10.0.0.3", "bob\r\neth0");
    withStore((store) =>
      expect(store.scan().map(({ name, key }) => [name, key]).sort()).toEqual([
        ["10.0.0.2", "alice"],
        ["10.0.0.3", "bob\r\neth0"],
      ]),
    );
  });
});

describe("the owner index", () => {
  it("is trusted after our own operations", () => {
    withStore((store) => store.reserve(ip("10.0.0.2"), alice, 0));
    expect(trustedOnOpen()).toBe(true);
    withStore((store) => store.release(alice));
    expect(trustedOnOpen()).toBe(true);
  });

  it("is rebuilt after the reference reserves, and then finds the reference's lease", () => {
    withStore((store) => store.reserve(ip("10.0.0.2"), alice, 0));
    referenceReserve("10.0.0.3", "alice\r\neth0");
    withStore((store) => {
      expect(store.indexWasTrusted).toBe(false);
      expect(store.release(alice).map(String).sort()).toEqual(["10.0.0.2", "10.0.0.3"]);
    });
  });

  it("notices a change made right after ours, within the same clock tick", () => {
    for (let round = 0; round < 50; round++) {
      withStore((store) => store.reserve(ip(`10.0.1.${round}`), alice, 0));
      referenceReserve(`10.0.2.${round}`, "alice\r\neth0");
      expect(trustedOnOpen()).toBe(false);
    }
  });

  it("notices the reference's release and never reports a released lease", () => {
    withStore((store) => store.reserve(ip("10.0.0.2"), alice, 0));
    unlinkSync(join(dir, "10.0.0.2"));
    withStore((store) => {
      expect(store.indexWasTrusted).toBe(false);
      expect(store.release(alice)).toEqual([]);
    });
  });

  it("rescans when a lease file was rewritten in place, which the fence cannot see", () => {
    withStore((store) => store.reserve(ip("10.0.0.2"), alice, 0));
    // Rewriting a file in place does not touch the directory: the index is trusted but wrong.
    writeFileSync(join(dir, "10.0.0.2"), "bob\r\neth0");
    withStore((store) => {
      expect(store.indexWasTrusted).toBe(true);
      expect(store.release(alice)).toEqual([]);
    });
    expect(readFileSync(join(dir, "10.0.0.2"), "latin1")).toBe("bob\r\neth0");
  });

  it("finds a lease rewritten in place into the oldest format", () => {
    withStore((store) => store.reserve(ip("10.0.0.2"), alice, 0));
    writeFileSync(join(dir, "10.0.0.2"), "alice");
    withStore((store) => expect(store.release(alice).map(String)).toEqual(["10.0.0.2"]));
  });

  it("names index files after their owner, hashing very long container IDs", () => {
    const longId = "x".repeat(300);
    withStore((store) => {
      store.reserve(ip("10.0.0.2"), alice, 0);
      store.reserve(ip("10.0.0.3"), { containerId: longId, ifname: "eth0" }, 0);
    });
    const names = readdirSync(join(dir, OWNER_INDEX_DIR)).sort();
    expect(names).toEqual(["fence", expect.stringMatching(/^h-[0-9a-f]{16}$/), "k-alice%0D%0Aeth0"]);
    withStore((store) => {
      expect(store.indexWasTrusted).toBe(true);
      expect(store.release({ containerId: longId, ifname: "eth0" }).map(String)).toEqual(["10.0.0.3"]);
    });
  });

  it("rebuilds from a scan when an index file is damaged", () => {
    withStore((store) => store.reserve(ip("10.0.0.2"), alice, 0));
    const indexDir = join(dir, OWNER_INDEX_DIR);
    for (const name of readdirSync(indexDir)) if (name !== "fence") writeFileSync(join(indexDir, name), "garbage");
    withStore((store) => expect(store.release(alice).map(String)).toEqual(["10.0.0.2"]));
  });

  it("holds nothing the reference could take for a lease", () => {
    withStore((store) => {
      store.reserve(ip("10.0.0.2"), alice, 0);
      store.reserve(ip("10.0.0.3"), { containerId: "alice", ifname: "eth1" }, 0);
    });
    referenceReserve("10.0.0.4", "carol"); // forces a rebuild, so every kind of entry is written
    withStore((store) => store.release(bob));
    const indexDir = join(dir, OWNER_INDEX_DIR);
    const files = readdirSync(indexDir);
    expect(files.length).toBeGreaterThan(2);
    for (const name of files) {
      // The reference matches trimmed content against "<id>\r\n<ifname>" and "<id>", which come
      // from environment variables and so can never hold NUL; and it parses base names as IPs.
      expect(readFileSync(join(indexDir, name), "latin1")).toContain("\0");
      expect(IPAddress.tryParse(name)).toBeUndefined();
    }
  });

  it("answers DEL without reading the other leases", () => {
    const leaseCount = 10_000;
    withStore(() => undefined);
    for (let n = 0; n < leaseCount; n++) referenceReserve(`10.1.${n >> 8}.${n & 0xff}`, `c${n}\r\neth0`);
    withStore((store) => expect(store.indexWasTrusted).toBe(false));
    const started = performance.now();
    withStore((store) => {
      expect(store.indexWasTrusted).toBe(true);
      expect(store.release({ containerId: "c0", ifname: "eth0" }).map(String)).toEqual(["10.1.0.0"]);
    });
    const releaseMs = performance.now() - started;
    const scanStarted = performance.now();
    withStore((store) => expect(store.scan()).toHaveLength(leaseCount - 1));
    const scanMs = performance.now() - scanStarted;
    // Reading one index file and one lease instead of 10,000 leases: far below a scan's cost.
    expect(releaseMs).toBeLessThan(scanMs / 5);
  });
});
