/**
 * `dhcp daemon [flags]`: the long-running half of the dhcp plugin. It listens on a unix socket
 * (-socketpath, or the one systemd passes through socket activation), serves DHCP.Allocate and
 * DHCP.Release over Go's net/rpc as the reference daemon does, and keeps every lease it got
 * renewed until it is released or lost. SIGTERM or SIGINT stop it gracefully: no lease is
 * released, so containers keep their addresses across a restart (as with the reference).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import { DaemonError, DhcpDaemon } from "./daemon.ts";
import { DEFAULT_SOCKET_PATH } from "./config.ts";
import { FlagError, parseDaemonFlags, USAGE, type DaemonFlags } from "./flags.ts";
import { serveGoRpcConnection, type RpcMethod } from "./rpc/go-rpc.ts";
import { withCode } from "./rpc/error-text.ts";
import { cmdArgsFromGob, emptyType, resultToGob, resultType } from "./rpc/types.ts";
import { ErrorCode } from "../skel/index.ts";

/** systemd's first passed file descriptor (sd_listen_fds). */
const SD_LISTEN_FDS_START = 3;
/** An idle client connection is closed after this long. */
const CONNECTION_IDLE_MS = 10 * 60_000;

export async function runDhcpDaemon(args: readonly string[]): Promise<number> {
  let flags: DaemonFlags | "help";
  try {
    flags = parseDaemonFlags(args);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}`);
    return 2;
  }
  if (flags === "help") {
    process.stderr.write(USAGE);
    return 0;
  }
  try {
    return await serve(flags);
  } catch (error) {
    log((error as Error).message);
    return 1;
  }
}

function log(message: string): void {
  process.stderr.write(`${timestamp()} ${message}\n`);
}

/** Go's log timestamp ("2006/01/02 15:04:05"), in local time. */
function timestamp(): string {
  const now = new Date();
  const two = (value: number) => String(value).padStart(2, "0");
  return `${now.getFullYear()}/${two(now.getMonth() + 1)}/${two(now.getDate())} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
}

async function serve(flags: DaemonFlags): Promise<number> {
  // Handlers first: a SIGTERM that comes as soon as the socket or pid file exists must find them.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  if (flags.pidfile !== "" && !isAbsolute(flags.pidfile)) throw new Error(`-pidfile ${flags.pidfile}: the path must be absolute`);
  const socketPath = flags.hostprefix + (flags.socketpath || DEFAULT_SOCKET_PATH);
  const daemon = new DhcpDaemon({
    hostPrefix: flags.hostprefix,
    log,
    client: { timeoutMs: flags.timeoutMs, resendMaxMs: flags.resendMaxMs, resendTimeoutMs: flags.resendTimeoutMs, broadcast: flags.broadcast },
  });
  const methods: Record<string, RpcMethod> = {
    "DHCP.Allocate": async (arg) => ({ type: resultType, value: resultToGob(await call(() => daemon.allocate(cmdArgsFromGob(arg)))) }),
    // Ours only: what CHECK asks, without acquiring a lease when none is held (the reference
    // plugin's CHECK calls DHCP.Allocate, which would).
    "DHCP.Check": async (arg) => ({ type: resultType, value: resultToGob(await call(async () => daemon.check(cmdArgsFromGob(arg)))) }),
    "DHCP.Release": async (arg) => {
      await call(() => daemon.release(cmdArgsFromGob(arg)));
      return { type: emptyType, value: {} };
    },
  };
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    serveGoRpcConnection(socket, { methods, log, idleMs: CONNECTION_IDLE_MS });
  });
  const activated = activationSocket();
  if (activated === undefined) await listenOnPath(server, socketPath);
  else await listen(server, { fd: activated });
  if (flags.pidfile) writeFileSync(flags.pidfile, String(process.pid), { mode: 0o644 });
  log(`dhcp daemon listening on ${activated === undefined ? socketPath : `the socket systemd passed (fd ${activated})`}`);

  const signal = await stopSignal;
  const held = daemon.leaseCount;
  log(`${signal}: shutting down; ${held} lease${held === 1 ? "" : "s"} stay${held === 1 ? "s" : ""} valid (nothing is released)`);
  server.close();
  for (const connection of connections) connection.destroy();
  if (activated === undefined) rmSync(socketPath, { force: true });
  if (flags.pidfile) rmSync(flags.pidfile, { force: true });
  await daemon.shutdown();
  return 0;
}

/** Runs a daemon method, turning its failure into net/rpc's error text with the CNI code. */
async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const failure = error instanceof DaemonError ? error : new DaemonError(ErrorCode.Internal, (error as Error).message);
    throw new Error(withCode(failure.message, failure.code));
  }
}

/** The descriptor systemd passed us (LISTEN_PID/LISTEN_FDS), if it did. */
function activationSocket(): number | undefined {
  const { LISTEN_PID, LISTEN_FDS } = process.env;
  if (LISTEN_FDS === undefined || LISTEN_PID !== String(process.pid)) return undefined;
  const count = Number(LISTEN_FDS);
  if (count === 0) return undefined;
  if (count !== 1) throw new Error(`systemd passed ${LISTEN_FDS} sockets (LISTEN_FDS); the dhcp daemon takes exactly one`);
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDS;
  return SD_LISTEN_FDS_START;
}

/**
 * Listens on `path`. A socket file left by a daemon that died is replaced; one that a running
 * daemon answers on is not taken over.
 */
async function listenOnPath(server: Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (exists(path)) {
    if (await answers(path)) throw new Error(`another dhcp daemon is already listening on ${path}`);
    rmSync(path, { force: true });
  }
  await listen(server, { path });
}

function listen(server: Server, where: { path: string } | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(where, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
