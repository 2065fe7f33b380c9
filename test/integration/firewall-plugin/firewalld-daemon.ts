import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";

/**
 * A real firewalld that cannot touch the host's firewall: it runs inside a network namespace of
 * the test's own (so the nftables ruleset it owns and flushes is that namespace's), on a private
 * D-Bus "system" bus whose socket is a file in a temp dir, with a copy of /etc/firewalld as its
 * configuration. Clients reach it with DBUS_SYSTEM_BUS_ADDRESS, as they would reach the host's.
 */
export interface IsolatedFirewalld {
  ns: TestNetns;
  /** Environment that points D-Bus clients (busctl, the plugins) at this firewalld's bus. */
  env: Record<string, string>;
  /** busctl against this bus; returns its output, or throws with its stderr. */
  busctl(args: string[]): string;
  stop(): Promise<void>;
}

export const FIREWALLD_BINARY = "/usr/sbin/firewalld";
export const DBUS_DAEMON_BINARY = "/usr/bin/dbus-daemon";

/** Why a live firewalld cannot run here, or undefined when it can. */
export function firewalldMissing(): string | undefined {
  for (const binary of [FIREWALLD_BINARY, DBUS_DAEMON_BINARY, "/usr/bin/busctl"]) {
    if (!existsSync(binary)) return `${binary} is not installed (Debian packages firewalld, dbus, systemd)`;
  }
  return undefined;
}

const BUS_CONFIG = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

export async function startIsolatedFirewalld(): Promise<IsolatedFirewalld> {
  const dir = mkdtempSync(join(tmpdir(), "fwd-"));
  const socket = join(dir, "system_bus_socket");
  const env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
  const ns = createNetns("fwd");
  const daemons: ChildProcess[] = [];

  const busctl = (args: string[]): string => {
    const proc = spawnSync("busctl", ["--system", ...args], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 });
    if (proc.status !== 0) throw new Error(`busctl ${args.join(" ")}: ${proc.stderr.trim()}`);
    return proc.stdout.trim();
  };

  const stop = async (): Promise<void> => {
    // firewalld first (it cleans up its tables on SIGTERM, inside the namespace), then its bus.
    for (const daemon of daemons.reverse()) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) continue;
      const exited = new Promise((resolve) => daemon.once("exit", resolve));
      daemon.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000).then(() => daemon.kill("SIGKILL"))]);
    }
    ns.remove();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    cpSync("/etc/firewalld", join(dir, "etc"), { recursive: true });
    writeFileSync(join(dir, "bus.conf"), BUS_CONFIG(socket));
    spawnSync("ip", ["-n", ns.name, "link", "set", "lo", "up"]);
    daemons.push(
      spawn("ip", ["netns", "exec", ns.name, DBUS_DAEMON_BINARY, `--config-file=${join(dir, "bus.conf")}`, "--nofork", "--nopidfile"], {
        stdio: "ignore",
      }),
    );
    await waitFor("the private D-Bus socket", () => existsSync(socket));
    const firewalldArgs = ["--nofork", "--nopid", "--system-config", join(dir, "etc"), "--log-target", "file", "--log-file", join(dir, "firewalld.log")];
    daemons.push(
      spawn("ip", ["netns", "exec", ns.name, FIREWALLD_BINARY, ...firewalldArgs], { env: { ...process.env, ...env }, stdio: "ignore" }),
    );
    await waitFor("firewalld to reach state RUNNING", () => {
      try {
        return busctl(["get-property", "org.fedoraproject.FirewallD1", "/org/fedoraproject/FirewallD1", "org.fedoraproject.FirewallD1", "state"]) === 's "RUNNING"';
      } catch {
        return false;
      }
    });
    return { ns, env, busctl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitFor(what: string, ready: () => boolean): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 200) {
    if (ready()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}
