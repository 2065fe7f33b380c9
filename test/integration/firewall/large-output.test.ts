import { describe, expect, it } from "vitest";
import { commandExecutor } from "../../../lib/firewall/exec.ts";

describe("the firewall tool executor", () => {
  it("captures output larger than 1 MiB, as iptables-save of a busy node produces", () => {
    // `head` stands in for a tool with a large answer; the executor treats every tool alike.
    const size = 5 << 20;
    const output = commandExecutor().run("head", ["-c", String(size), "/dev/zero"]);
    expect(output.status).toBe(0);
    expect(output.stdout.length).toBe(size);
  });
});
