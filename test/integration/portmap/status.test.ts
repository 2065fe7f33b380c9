import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUR_BIN } from "../../helpers/paths.ts";

let brokenToolDir: string;
/** A stand-in for a tool that cannot talk to the kernel: it exits 3, as iptables does then. */
const brokenTool = () => join(brokenToolDir, "broken");

/**
 * STATUS asks the tools whether the backend works. A tool is made unusable for one plugin run
 * only: the run gets a private mount namespace in which a broken tool is mounted over it.
 */
function status(config: Record<string, unknown>, brokenTools: string[] = []): { status: number | null; json: { code?: number; msg?: string } | undefined } {
  const mounts = brokenTools.map((tool) => `mount --bind ${brokenTool()} /usr/sbin/${tool} && `).join("");
  const result = spawnSync("unshare", ["-m", "sh", "-c", `${mounts}exec ${join(OUR_BIN, "portmap")}`], {
    env: { PATH: process.env.PATH, CNI_COMMAND: "STATUS", CNI_PATH: OUR_BIN },
    input: JSON.stringify({ cniVersion: "1.1.0", name: "statusnet", type: "portmap", ...config }),
    encoding: "utf8",
  });
  const stdout = result.stdout.trim();
  return { status: result.status, json: stdout ? JSON.parse(stdout) : undefined };
}

describe("portmap STATUS", () => {
  beforeAll(() => {
    brokenToolDir = mkdtempSync(join(tmpdir(), "pm-status-"));
    writeFileSync(brokenTool(), "#!/bin/sh\necho broken >&2\nexit 3\n");
    chmodSync(brokenTool(), 0o755);
  });
  afterAll(() => rmSync(brokenToolDir, { recursive: true, force: true }));

  it("is ready when the chosen backend works", () => {
    expect(status({})).toEqual({ status: 0, json: undefined });
    expect(status({ backend: "nftables" })).toEqual({ status: 0, json: undefined });
  });

  it("answers 50 when the configured backend's tool does not work", () => {
    expect(status({ backend: "nftables" }, ["nft"])).toEqual({
      status: 1,
      json: expect.objectContaining({ code: 50, msg: expect.stringContaining("configured firewall backend nftables is not usable") }),
    });
    expect(status({ backend: "iptables" }, ["iptables"]).json?.code).toBe(50);
  });

  it("is ready with nftables when iptables does not work and no backend is configured, as the reference would choose", () => {
    expect(status({}, ["iptables"])).toEqual({ status: 0, json: undefined });
  });

  it("answers 50 when neither backend works", () => {
    expect(status({}, ["iptables", "nft"]).json).toMatchObject({ code: 50, msg: expect.stringContaining("chosen firewall backend iptables is not usable") });
  });
});
