import { describe, expect, it } from "vitest";
import { applyScript, commandExecutor, runTool } from "../../../lib/firewall/exec.ts";
import { FakeExecutor } from "./fake-executor.ts";

const SCRIPT = "*nat\n:CNI-abc - [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n";

describe("running firewall tools", () => {
  it("names the script line iptables-nft rejected and keeps the script in the details", () => {
    const executor = new FakeExecutor({
      "iptables-restore": { status: 1, stderr: "iptables-restore: line 3 failed: No chain/target/match by that name.\n" },
    });
    expect(() => applyScript(executor, "iptables-restore", ["--noflush"], SCRIPT)).toThrow(
      expect.objectContaining({
        code: 101,
        message:
          "iptables-restore --noflush failed (exit status 1): iptables-restore: line 3 failed: No chain/target/match by that name. (script line 3: -A NOPE -j ACCEPT)",
        details: SCRIPT,
      }),
    );
  });

  it("finds the line in iptables-legacy-restore's and nft's wording", () => {
    const legacy = new FakeExecutor({ tool: { status: 1, stderr: "Error occurred at line: 2\n" } });
    expect(() => applyScript(legacy, "tool", [], SCRIPT)).toThrow(/script line 2: :CNI-abc - \[0:0\]/);
    const nft = new FakeExecutor({
      nft: { status: 1, stderr: "/dev/stdin:1:18-24: Error: Could not process rule: No such file or directory\n" },
    });
    expect(() => applyScript(nft, "nft", ["-f", "-"], "add rule inet t nochain accept\n")).toThrow(
      /No such file or directory \(script line 1: add rule inet t nochain accept\)/,
    );
  });

  it("reports a tool that is not installed as code 101", () => {
    expect(() => runTool(commandExecutor(), "no-such-firewall-tool", ["-t", "nat"])).toThrow(
      expect.objectContaining({ code: 101, message: expect.stringMatching(/no-such-firewall-tool -t nat failed \(could not run\).*not found/) }),
    );
  });

  it("runs a real tool with the script on stdin", () => {
    expect(commandExecutor().run("cat", [], "line\n")).toEqual({ status: 0, stdout: "line\n", stderr: "" });
  });

  it("puts the prefix in front of the command", () => {
    expect(commandExecutor(["env", "FIREWALL_TEST=1"]).run("printenv", ["FIREWALL_TEST"]).stdout).toBe("1\n");
  });
});
