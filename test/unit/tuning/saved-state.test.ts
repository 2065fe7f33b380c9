import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  collectSavedStates,
  readSavedState,
  savedStatePath,
  serializeSavedState,
  writeSavedState,
} from "../../../plugins/tuning/saved-state.ts";

/** What the reference (json.MarshalIndent(v, "", " ") of its struct) writes for a full set. */
const REFERENCE_FILE = '{\n "mac": "3e:73:bf:70:67:24",\n "promisc": false,\n "mtu": 1500,\n "allmulti": false,\n "txQLen": 1000\n}';

describe("saved interface settings", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "tuning-state-"));
    dirs.push(dir);
    return dir;
  }

  it("live in <dataDir>/<containerID>_<ifname>.json, the reference's name", () => {
    expect(savedStatePath("/run/cni/tuning", { containerId: "abc", ifname: "eth0.1" })).toBe("/run/cni/tuning/abc_eth0.1.json");
  });

  it("are written byte for byte as the reference writes them, plus the network", () => {
    const state = { mac: "3e:73:bf:70:67:24", promisc: false, mtu: 1500, allmulti: false, txQLen: 1000 };
    expect(serializeSavedState(state)).toBe(REFERENCE_FILE);
    expect(serializeSavedState({ ...state, network: "tn" })).toBe(REFERENCE_FILE.replace("1000\n}", '1000,\n "network": "tn"\n}'));
  });

  it("leave out what ADD did not change, an empty MAC and a zero MTU as Go's omitempty does", () => {
    expect(serializeSavedState({ allmulti: true, txQLen: 0 })).toBe('{\n "allmulti": true,\n "txQLen": 0\n}');
    expect(serializeSavedState({ mac: "", mtu: 0, promisc: false })).toBe('{\n "promisc": false\n}');
  });

  it("read the reference's file", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c_eth0.json"), REFERENCE_FILE);
    expect(readSavedState(join(dir, "c_eth0.json"))).toEqual({
      found: true,
      state: { mac: "3e:73:bf:70:67:24", promisc: false, mtu: 1500, allmulti: false, txQLen: 1000 },
    });
  });

  it("report a missing file and an unreadable one apart", () => {
    const dir = tempDir();
    expect(readSavedState(join(dir, "none.json"))).toEqual({ found: false });
    writeFileSync(join(dir, "bad.json"), "{ not json");
    expect(readSavedState(join(dir, "bad.json"))).toMatchObject({ found: true, corrupt: expect.any(String) });
  });

  it("are written with owner-only permissions, creating the directory", () => {
    const dir = join(tempDir(), "a", "b");
    const path = join(dir, "c_eth0.json");
    writeSavedState(path, { mtu: 1500, network: "tn" });
    expect(readSavedState(path)).toEqual({ found: true, state: { mtu: 1500, network: "tn" } });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["c_eth0.json"]);
  });
});

describe("GC of saved settings", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("removes this network's files of attachments that are no longer valid, and nothing else", () => {
    const dir = mkdtempSync(join(tmpdir(), "tuning-gc-"));
    dirs.push(dir);
    const file = (name: string, text: string) => writeFileSync(join(dir, name), text);
    file("live_eth0.json", '{"mtu": 1500, "network": "tn"}');
    file("stale_eth0.json", '{"mtu": 1500, "network": "tn"}');
    file("stale_eth1.json", '{"mtu": 1500, "network": "other"}');
    file("reference_eth0.json", REFERENCE_FILE);
    file("notes.txt", "not a saved state");

    expect(collectSavedStates(dir, "tn", [{ containerID: "live", ifname: "eth0" }])).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["live_eth0.json", "notes.txt", "reference_eth0.json", "stale_eth1.json"]);
  });

  it("has nothing to do when the directory does not exist", () => {
    const dir = join(tmpdir(), "tuning-gc-never-made");
    expect(existsSync(dir)).toBe(false);
    expect(collectSavedStates(dir, "tn", [])).toEqual([]);
  });
});
