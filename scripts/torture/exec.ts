/**
 * Starting plugin processes as a runtime does, inside the batch's throwaway host namespace
 * (`ip netns exec`), with a time limit. Every process starts in a session of its own (`setsid`
 * runs it without forking, as it is not a group leader), so a hung plugin is killed together
 * with the iptables or nft it started, and the kill phase can kill a runtime alone or with its
 * whole process group.
 */

/** How a process ended. */
export interface ProcessRun {
  /** Exit status; undefined when a signal ended it. */
  status: number | undefined;
  signal: string | undefined;
  /** It did not end within the time limit and was killed. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident memory of the process, in KiB (wait4's rusage). */
  maxRssKiB: number;
}

export interface ProcessRequest {
  argv: readonly string[];
  env: Record<string, string>;
  stdin: Buffer;
  cwd: string;
  timeoutMs: number;
}

/** The prefix that runs a command inside a named network namespace, in a session of its own. */
export function inNamespace(netns: string, argv: readonly string[]): string[] {
  return ["setsid", "ip", "netns", "exec", netns, ...argv];
}

export async function runProcess(request: ProcessRequest): Promise<ProcessRun> {
  const started = performance.now();
  const proc = Bun.spawn([...request.argv], {
    env: request.env,
    cwd: request.cwd,
    stdin: request.stdin.length > 0 ? request.stdin : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(proc.pid);
  }, request.timeoutMs);
  const [stdout, stderr] = await Promise.all([readCapped(proc.stdout), readCapped(proc.stderr)]);
  await proc.exited;
  clearTimeout(timer);
  // Whatever the plugin left running in its session (a tool it started) goes with it.
  if (timedOut) killGroup(proc.pid);
  const usage = proc.resourceUsage();
  return {
    status: proc.signalCode ? undefined : (proc.exitCode ?? undefined),
    signal: proc.signalCode === null ? undefined : String(proc.signalCode),
    timedOut,
    stdout,
    stderr,
    wallMs: performance.now() - started,
    maxRssKiB: usage ? Math.round(Number(usage.maxRSS) / 1024) : 0,
  };
}

/** SIGKILL to a whole process group (a session leader's pid is its group's id). */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Whether any process of the group is still alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the first megabyte of an output stream: a plugin that floods its output is still read to the end. */
async function readCapped(stream: ReadableStream<Uint8Array>): Promise<string> {
  const limit = 1 << 20;
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of stream) {
    if (kept < limit) {
      const part = Buffer.from(chunk).subarray(0, limit - kept);
      chunks.push(part);
      kept += part.length;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}
