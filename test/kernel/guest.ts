import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { OUR_BIN, REFERENCE_BIN } from "../helpers/paths.ts";
import { readState, type GuestState } from "./state.ts";

/**
 * A User-Mode Linux guest for tests that need kernel features this host lacks (8021q, ipvlan,
 * vrf, dummy, bridge VLAN filtering): Debian's `user-mode-linux` kernel, run as an ordinary
 * process with the host's filesystem as its root, so our dist/ and the reference plugins run
 * inside unchanged. The guest has its own network stack (no network device to the host) and its
 * own /run and /var/lib/cni.
 */
export const KERNEL = "/usr/bin/linux.uml";
const GUEST_DIR = resolve(import.meta.dirname, "guest");

/** A guest normally boots, runs and powers off in seconds; this is for a hung one. */
export const GUEST_TIMEOUT_MS = 120_000;
/** For a beforeAll or test that runs guests: the guest's own timeout fires first. */
export const GUEST_HOOK_TIMEOUT_MS = GUEST_TIMEOUT_MS + 30_000;

const CONSOLE_LIMIT = 256 * 1024;
const GROUP_REAP_WAIT_MS = 5_000;

export interface GuestOptions {
  /** Kernel modules to load before the script runs; modprobe resolves their dependencies. */
  modules?: string[];
  /**
   * A bash script run as root inside the guest with `set -Eeuo pipefail` and the helpers of
   * guest/lib.sh (container, cni, reach, snapshot, ipv4_of). Its working directory is $OUT; its
   * common indentation is removed first.
   */
  script: string;
  /** Files for the script in $IN: name to content (an object is written as JSON). */
  inputs?: Record<string, string | object>;
  /** Killed after this long (default GUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Guest memory in MiB (default 512: a Bun executable runs in 128). */
  memoryMb?: number;
}

/** What a guest left behind: the script's exit status and output, and the files it wrote. */
export class GuestRun {
  constructor(
    /** The kernel's host process; its process group held every process of the guest. */
    readonly pid: number,
    /** The script's exit status; undefined when it never finished (killed, or the kernel died). */
    readonly status: number | undefined,
    readonly timedOut: boolean,
    readonly stdout: string,
    readonly stderr: string,
    /** The kernel's console: boot messages, and whatever init printed. */
    readonly console: string,
    /** The files the script wrote into $OUT (not in its subdirectories), by name. */
    readonly files: Readonly<Record<string, string>>,
  ) {}

  get succeeded(): boolean {
    return this.status === 0;
  }

  /** Throws with everything the guest said unless the script exited 0. */
  assertSucceeded(): this {
    if (!this.succeeded) throw new Error(`guest run failed\n${this.transcript()}`);
    return this;
  }

  /** A file from $OUT; throws with the guest's output when the script did not write it. */
  text(name: string): string {
    const content = this.files[name];
    if (content === undefined) throw new Error(`the guest wrote no file "${name}" in $OUT\n${this.transcript()}`);
    return content;
  }

  json<T = unknown>(name: string): T {
    const content = this.text(name);
    try {
      return JSON.parse(content) as T;
    } catch (error) {
      throw new Error(`$OUT/${name} is not JSON (${(error as Error).message}): ${content.slice(0, 500)}`);
    }
  }

  /** What `snapshot NAME` recorded. */
  state(name: string): GuestState {
    this.text(`${name}.ip.jsonl`); // throws with the guest's output when there is no such snapshot
    return readState((suffix) => this.files[`${name}.${suffix}`]);
  }

  /** The `reach` lines: label to whether the ping was answered. */
  reachability(): Record<string, boolean> {
    const table: Record<string, boolean> = {};
    for (const line of (this.files["reach.tsv"] ?? "").split("\n")) {
      if (!line) continue;
      const [label, answer] = line.split("\t");
      table[label!] = answer === "yes";
    }
    return table;
  }

  /** Everything the guest said, for a failure message. */
  transcript(): string {
    const outcome = this.timedOut
      ? "the guest was killed at its timeout"
      : this.status === undefined
        ? "the guest stopped before the script finished"
        : `the script exited with ${this.status}`;
    return [
      `--- ${outcome}`,
      `--- stdout:\n${this.stdout.trimEnd()}`,
      `--- stderr:\n${this.stderr.trimEnd()}`,
      `--- console (last 40 lines):\n${lastLines(this.console, 40)}`,
    ].join("\n");
  }
}

/** Guests still running, killed if the test process exits under them. */
const running = new Set<number>();
process.on("exit", () => {
  for (const pid of running) killGroup(pid);
});

/** Boots a guest, runs the script inside, and resolves when the guest is gone. */
export async function runInGuest(options: GuestOptions): Promise<GuestRun> {
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: scripts/setup.sh installs Debian's user-mode-linux`);
  const dir = mkdtempSync(join(tmpdir(), "cni-guest-"));
  try {
    prepareRunDir(dir, options);
    const { pid, consoleText, timedOut } = await boot(dir, options);
    const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8") : "");
    const statusText = read("status").trim();
    const files: Record<string, string> = {};
    for (const name of readdirSync(join(dir, "out"))) {
      const path = join(dir, "out", name);
      if (statSync(path).isFile()) files[name] = readFileSync(path, "utf8");
    }
    return new GuestRun(pid, statusText ? Number(statusText) : undefined, timedOut, read("stdout"), read("stderr"), consoleText, files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like runInGuest, but throws with everything the guest said unless the script exited 0. */
export async function mustRunInGuest(options: GuestOptions): Promise<GuestRun> {
  return (await runInGuest(options)).assertSucceeded();
}

function prepareRunDir(dir: string, options: GuestOptions): void {
  mkdirSync(join(dir, "in"));
  mkdirSync(join(dir, "out"));
  mkdirSync(join(dir, "uml"));
  writeFileSync(join(dir, "modules"), (options.modules ?? []).map((module) => `${module}\n`).join(""));
  writeFileSync(join(dir, "env"), `OURS=${shellQuote(OUR_BIN)}\nREFERENCE=${shellQuote(REFERENCE_BIN)}\n`);
  writeFileSync(join(dir, "test.sh"), dedent(options.script));
  for (const [name, content] of Object.entries(options.inputs ?? {})) {
    if (name.includes("/")) throw new Error(`input file name "${name}" must not contain "/"`);
    writeFileSync(join(dir, "in", name), typeof content === "string" ? content : JSON.stringify(content));
  }
}

/**
 * Runs the kernel in a process group of its own (each guest process is a host process), so
 * that the timeout can kill all of it. The console goes to our pipe; the guest has no network
 * device, and its control files (uml_dir) live in the run dir.
 */
function boot(dir: string, options: GuestOptions): Promise<{ pid: number; consoleText: string; timedOut: boolean }> {
  const args = [
    `mem=${options.memoryMb ?? 512}M`,
    "root=/dev/root",
    "rootfstype=hostfs",
    "rootflags=/",
    "rw",
    `init=${join(GUEST_DIR, "init.sh")}`,
    "con=null",
    "con0=null,fd:1",
    `uml_dir=${join(dir, "uml")}`,
    // Boot-time work no test needs, three quarters of a boot's CPU time on a busy host: the
    // RAID6 algorithm benchmark, pseudo-terminals, the stream parser's workqueue, zswap.
    "initcall_blacklist=raid6_select_algo,pty_init,strp_dev_init,init_zswap",
    `GUEST_RUN=${dir}`,
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(KERNEL, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    const pid = child.pid;
    if (pid === undefined) {
      child.once("error", reject);
      return;
    }
    running.add(pid);
    let consoleText = "";
    const collect = (chunk: Buffer) => {
      consoleText = (consoleText + chunk.toString("utf8")).slice(-CONSOLE_LIMIT);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
    }, options.timeoutMs ?? GUEST_TIMEOUT_MS);
    child.once("close", () => {
      clearTimeout(timer);
      // The kernel's helper processes share its group; none may outlive it.
      killGroup(pid);
      void groupGone(pid).then(() => {
        running.delete(pid);
        resolvePromise({ pid, consoleText, timedOut });
      });
    });
  });
}

/** Waits (briefly) until the killed processes of the group have been reaped by their parent. */
async function groupGone(pid: number): Promise<void> {
  for (let waited = 0; waited < GROUP_REAP_WAIT_MS && groupExists(pid); waited += 20) await sleep(20);
}

function groupExists(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
}

/** Removes the indentation common to every line, so a heredoc's end marker stands at column 0. */
function dedent(script: string): string {
  const lines = script.split("\n");
  const indents = lines.filter((line) => line.trim()).map((line) => line.length - line.trimStart().length);
  const common = Math.min(...indents, Infinity);
  return common === Infinity ? script : lines.map((line) => line.slice(common)).join("\n");
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}
