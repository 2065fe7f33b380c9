/**
 * `dhcp daemon`'s command line, read the way Go's flag package reads the reference's: flags
 * start with - or --, take their value as the next argument or after "=", booleans need no
 * value; durations are Go durations ("10s", "1m2s", "1.5h", "300ms").
 */

export interface DaemonFlags {
  pidfile: string;
  hostprefix: string;
  socketpath: string;
  broadcast: boolean;
  timeoutMs: number;
  resendMaxMs: number;
  resendTimeoutMs: number;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlagError";
  }
}

export const USAGE = `Usage of dhcp daemon:
  -broadcast
    \tbroadcast DHCP leases (ask servers to broadcast their replies)
  -hostprefix string
    \toptional prefix to host root
  -pidfile string
    \toptional path to write daemon PID to
  -resendmax duration
    \toptional dhcp client max resend delay between requests (default 1m2s)
  -resendtimeout duration
    \toptional dhcp client resend timeout, no more retries after this timeout (default 3m28s)
  -socketpath string
    \toptional dhcp server socketpath (default /run/cni/dhcp.sock)
  -timeout duration
    \toptional dhcp client timeout duration for each request (default 10s)
`;

const DEFAULTS: DaemonFlags = {
  pidfile: "",
  hostprefix: "",
  socketpath: "",
  broadcast: false,
  timeoutMs: 10_000,
  resendMaxMs: 62_000,
  resendTimeoutMs: 208_000,
};

type Kind = "string" | "bool" | "duration";
const FLAGS: Record<string, { kind: Kind; key: keyof DaemonFlags }> = {
  pidfile: { kind: "string", key: "pidfile" },
  hostprefix: { kind: "string", key: "hostprefix" },
  socketpath: { kind: "string", key: "socketpath" },
  broadcast: { kind: "bool", key: "broadcast" },
  timeout: { kind: "duration", key: "timeoutMs" },
  resendmax: { kind: "duration", key: "resendMaxMs" },
  resendtimeout: { kind: "duration", key: "resendTimeoutMs" },
};

/** Parses the arguments after "daemon"; "help" when -h/-help was given. */
export function parseDaemonFlags(args: readonly string[]): DaemonFlags | "help" {
  const flags: DaemonFlags = { ...DEFAULTS };
  const values = flags as unknown as Record<string, string | number | boolean>;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") break; // Go stops at the first non-flag
    const body = arg.replace(/^--?/, "");
    const equals = body.indexOf("=");
    const name = equals < 0 ? body : body.slice(0, equals);
    if (name === "h" || name === "help") return "help";
    const flag = FLAGS[name];
    if (!flag) throw new FlagError(`flag provided but not defined: -${name}`);
    let value: string | undefined = equals < 0 ? undefined : body.slice(equals + 1);
    if (flag.kind === "bool") {
      values[flag.key] = value === undefined ? true : parseBool(value, name);
      continue;
    }
    if (value === undefined) {
      if (index + 1 >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = args[++index]!;
    }
    values[flag.key] = flag.kind === "string" ? value : parseDuration(value, name);
  }
  return flags;
}

function parseBool(text: string, name: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  throw new FlagError(`invalid boolean value "${text}" for -${name}`);
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration in milliseconds; FlagError for anything Go's time.ParseDuration refuses. */
export function parseDuration(text: string, name = "duration"): number {
  const invalid = () => new FlagError(`invalid value "${text}" for flag -${name}: parse error (a Go duration such as 10s, 1m30s or 500ms)`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw invalid();
  let total = 0;
  while (rest !== "") {
    const match = /^(\d*(?:\.\d*)?)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!match || match[1] === "" || match[1] === ".") throw invalid();
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  if (sign < 0) throw new FlagError(`invalid value "${text}" for flag -${name}: a duration here cannot be negative`);
  return total;
}
