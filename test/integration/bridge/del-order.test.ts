/**
 * bridge's DEL calls IPAM DEL while the container interface still exists, and deletes it after:
 * a DHCP IPAM sends its release through that interface. The IPAM here is a script that records
 * whether it could see the interface when its DEL ran.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mustCall } from "../../helpers/cni.ts";
import { createNetns, deleteLinkIfExists, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";

const RECORDING_IPAM = `#!/bin/bash
# Answers ADD with one address; on DEL writes whether CNI_IFNAME exists in CNI_NETNS.
cat > /dev/null
case "$CNI_COMMAND" in
  ADD) echo '{"cniVersion":"1.0.0","ips":[{"address":"10.252.0.5/24","gateway":"10.252.0.1"}]}' ;;
  DEL) if nsenter --net="$CNI_NETNS" ip link show "$CNI_IFNAME" > /dev/null 2>&1; then echo present; else echo gone; fi >> "$RECORD" ;;
esac
`;

describe("bridge DEL", () => {
  let scratch: string;
  let netns: TestNetns;
  let bridge: string;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "del-order-"));
    writeFileSync(join(scratch, "recording-ipam"), RECORDING_IPAM);
    chmodSync(join(scratch, "recording-ipam"), 0o755);
    netns = createNetns("sho");
    bridge = uniqueName("shbr");
  });
  afterEach(() => {
    netns.remove();
    deleteLinkIfExists(bridge);
    rmSync(scratch, { recursive: true, force: true });
  });

  it("runs IPAM DEL while the container interface is still there, then deletes the interface", () => {
    const call = {
      containerId: uniqueName("sho"),
      netns: netns.path,
      ifname: "eth0",
      path: `${OUR_BIN}:${scratch}`,
      env: { RECORD: join(scratch, "record") },
      config: { cniVersion: "1.0.0", name: "delorder", type: "bridge", bridge, ipam: { type: "recording-ipam" } },
    };
    mustCall("bridge", { ...call, command: "ADD" });
    expect(linkExists("eth0", netns.name)).toBe(true);
    mustCall("bridge", { ...call, command: "DEL" });
    expect(readFileSync(join(scratch, "record"), "utf8")).toBe("present\n");
    expect(linkExists("eth0", netns.name)).toBe(false);
  });
});
