import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { firewalldRunning } from "../../../lib/firewall/forward/firewalld.ts";
import type { ToolExecutor, ToolOutput } from "../../../lib/firewall/exec.ts";

/** An executor whose busctl says firewalld owns its name, recording whether it was asked. */
function busctlExecutor(local: boolean): ToolExecutor & { asked: number } {
  const executor = {
    local,
    asked: 0,
    run(tool: string): ToolOutput {
      if (tool === "busctl") executor.asked++;
      return { status: 0, stdout: 's ":1.0"\n', stderr: "" };
    },
  };
  return executor;
}

const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
afterEach(() => {
  if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
  else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
});

describe("asking whether firewalld runs", () => {
  it("asks busctl when DBUS_SYSTEM_BUS_ADDRESS names a bus", () => {
    process.env.DBUS_SYSTEM_BUS_ADDRESS = "unix:path=/nonexistent/bus";
    const executor = busctlExecutor(true);
    expect(firewalldRunning(executor)).toBe(true);
    expect(executor.asked).toBe(1);
  });

  it("asks busctl whenever the tools run elsewhere (an executor that is not local)", () => {
    delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    const executor = busctlExecutor(false);
    expect(firewalldRunning(executor)).toBe(true);
    expect(executor.asked).toBe(1);
  });

  it("without DBUS_SYSTEM_BUS_ADDRESS, asks busctl only when the default system bus socket exists", () => {
    delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    const executor = busctlExecutor(true);
    const socketExists = existsSync("/run/dbus/system_bus_socket");
    expect(firewalldRunning(executor)).toBe(socketExists);
    expect(executor.asked).toBe(socketExists ? 1 : 0);
  });
});
