/**
 * `dhcp daemon` as a service: systemd socket activation, the pid file, the socket file's
 * lifecycle, -hostprefix, and what it does with clients that do not speak net/rpc or send too
 * much.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { callPlugin } from "../../helpers/cni.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { Container, Daemon, Lan, waitFor } from "./harness.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dhcp-daemon-it-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Sends raw bytes to a unix socket and collects what comes back until the server closes or 3 s pass. */
function exchange(path: string, data: Uint8Array | string): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const chunks: Buffer[] = [];
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks).toString("latin1"), closed });
    };
    const timer = setTimeout(() => done(false), 3000);
    socket.on("connect", () => socket.write(data));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("close", () => done(true));
    socket.on("error", () => done(true));
  });
}

function statusCall(socketPath: string) {
  return callPlugin(`${OUR_BIN}/dhcp`, { command: "STATUS", config: { cniVersion: "1.1.0", name: "lan", type: "dhcp", ipam: { type: "dhcp", daemonSocketPath: socketPath } } });
}

describe("dhcp daemon as a service", () => {
  it("serves on the socket systemd passes (socket activation, as cni-dhcp.socket does)", async () => {
    const dir = tempDir();
    const socketPath = join(dir, "activated.sock");
    const logFile = join(dir, "daemon.log");
    const activator = spawn("sh", ["-c", `exec systemd-socket-activate -l ${socketPath} ${OUR_BIN}/dhcp daemon 2>>${logFile}`], { stdio: "ignore" });
    cleanups.push(() => activator.kill("SIGTERM"));
    await waitFor("the activation socket", () => existsSync(socketPath), 10_000);
    expect(statusCall(socketPath).status).toBe(0);
    // The first connection starts the daemon, which takes the listening socket over.
    const del = callPlugin(`${OUR_BIN}/dhcp`, { command: "DEL", containerId: "dh-act", ifname: "eth0", config: { cniVersion: "1.0.0", name: "lan", type: "dhcp", ipam: { type: "dhcp", daemonSocketPath: socketPath } } });
    expect(del.status, del.stdout).toBe(0);
    expect(del.stderr).not.toContain("not running");
    await waitFor("the daemon's log", () => existsSync(logFile) && readFileSync(logFile, "utf8").includes("the socket systemd passed (fd 3)"), 10_000);
  });

  it("writes -pidfile, and on SIGTERM exits 0 removing the pid file and the socket", async () => {
    const dir = tempDir();
    const pidfile = join(dir, "dhcp.pid");
    const daemon = new Daemon({ flags: ["-pidfile", pidfile] });
    cleanups.push(() => daemon.close());
    await daemon.ready();
    await waitFor("the pid file", () => existsSync(pidfile), 5000);
    expect(readFileSync(pidfile, "utf8")).toBe(String(daemon.process.pid));
    expect(await daemon.stop()).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
    expect(existsSync(daemon.socketPath)).toBe(false);
  });

  it("refuses a socket another daemon answers on, and replaces a socket file nobody answers on", async () => {
    const first = new Daemon();
    cleanups.push(() => first.close());
    await first.ready();
    const second = spawn(`${OUR_BIN}/dhcp`, ["daemon", "-socketpath", first.socketPath], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    second.stderr!.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => second.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`another dhcp daemon is already listening on ${first.socketPath}`);
    expect(statusCall(first.socketPath).status).toBe(0);

    // A socket file left behind by a process that was killed (bound, never closed).
    const dir = tempDir();
    const stale = join(dir, "stale.sock");
    spawnSync("python3", ["-c", `import os, socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(stale)}); s.listen(); os.kill(os.getpid(), 9)`]);
    expect(existsSync(stale)).toBe(true);
    const replacing = spawn(`${OUR_BIN}/dhcp`, ["daemon", "-socketpath", stale], { stdio: "ignore" });
    cleanups.push(() => replacing.kill("SIGTERM"));
    await waitFor("the new daemon to answer", () => statusCall(stale).status === 0, 10_000);
  });

  it("answers what is not net/rpc with an HTTP error, drops oversized messages, and keeps serving", async () => {
    const daemon = new Daemon();
    cleanups.push(() => daemon.close());
    await daemon.ready();
    expect((await exchange(daemon.socketPath, "GET / HTTP/1.0\r\n\r\n")).reply).toMatch(/^HTTP\/1\.0 405 .*\r\n\r\n405 must CONNECT/s);
    expect((await exchange(daemon.socketPath, "CONNECT /elsewhere HTTP/1.0\n\n")).reply).toMatch(/^HTTP\/1\.0 404/);
    expect((await exchange(daemon.socketPath, "X".repeat(10_000))).closed).toBe(true);
    // A gob message that claims 100 MB: refused before anything is read.
    const huge = await exchange(daemon.socketPath, Buffer.concat([Buffer.from("CONNECT /_goRPC_ HTTP/1.0\n\n"), Buffer.from([0xfc, 0x06, 0x00, 0x00, 0x00])]));
    expect(huge.reply).toBe("HTTP/1.0 200 Connected to Go RPC\n\n");
    expect(huge.closed).toBe(true);
    expect(daemon.log()).toMatch(/rpc: dropping a connection: gob: a message of 100663296 bytes/);
    expect(statusCall(daemon.socketPath).status).toBe(0);
    expect(daemon.process.exitCode).toBeNull();
  });

  it("looks for namespaces under -hostprefix, and puts its socket there", async () => {
    const network = new Lan();
    cleanups.push(() => network.close());
    await network.ready();
    const c = new Container(network);
    cleanups.push(() => c.remove());
    // The host's root as a daemon in a container would see it: /run/netns/<name> under a prefix.
    const prefix = tempDir();
    mkdirSync(join(prefix, "run/netns"), { recursive: true });
    symlinkSync(c.netns.path, join(prefix, c.netns.path));
    const daemon = new Daemon({ flags: ["-hostprefix", prefix] });
    cleanups.push(() => daemon.close());
    // -socketpath is under the prefix too.
    const socketPath = prefix + daemon.socketPath;
    await waitFor("the prefixed socket", () => existsSync(socketPath), 10_000);
    const added = c.call("ADD", c.config({ daemonSocketPath: socketPath }));
    expect(added.status, added.stdout).toBe(0);
    expect(daemon.log()).toContain(`in ${prefix}${c.netns.path}`);
    expect(c.call("DEL", c.config({ daemonSocketPath: socketPath })).status).toBe(0);
  });
});
