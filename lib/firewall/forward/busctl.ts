import { existsSync } from "node:fs";
import { CniError, ErrorCode } from "../../core/index.ts";
import type { ToolExecutor } from "../exec.ts";

/**
 * Method calls on the D-Bus system bus with `busctl` (systemd's D-Bus tool, found on every
 * systemd host, which is every host firewalld runs on). It honours DBUS_SYSTEM_BUS_ADDRESS,
 * as firewalld does. Replies are read from busctl's plain output ("b true", `s "trusted"`,
 * `as 2 "a" "b"`) rather than --json, which systemd 239 (RHEL 8) lacks.
 */
export interface DbusMethodCall {
  destination: string;
  path: string;
  interface: string;
  method: string;
  /** D-Bus signature of the arguments ("ss"); "" for none. */
  signature: string;
  args: readonly string[];
}

export type DbusValue = boolean | string | string[];

/** The reply, or the error: "<firewalld code>: <text>" or busctl's own words. */
export type DbusReply = { ok: true; values: DbusValue[] } | { ok: false; error: string };

export function busctlArgs(call: DbusMethodCall): string[] {
  const typed = call.signature === "" ? [] : [call.signature, ...call.args];
  return ["--system", "call", call.destination, call.path, call.interface, call.method, ...typed];
}

/** Where busctl (sd-bus) connects when DBUS_SYSTEM_BUS_ADDRESS is not set. */
const DEFAULT_SYSTEM_BUS_SOCKET = "/run/dbus/system_bus_socket";

/**
 * False when busctl run by `executor` is known to find no system bus to connect to: a local
 * executor, no DBUS_SYSTEM_BUS_ADDRESS and no socket at sd-bus's default path. Hosts without
 * D-Bus are common (minimal VMs, nodes in containers), and there busctl takes ~6 ms to fail.
 */
export function systemBusMayBeReachable(executor: ToolExecutor): boolean {
  return !executor.local || process.env.DBUS_SYSTEM_BUS_ADDRESS !== undefined || existsSync(DEFAULT_SYSTEM_BUS_SOCKET);
}

export function callSystemBus(executor: ToolExecutor, call: DbusMethodCall): DbusReply {
  const output = executor.run("busctl", busctlArgs(call));
  if (output.status !== 0) {
    const said = output.stderr.trim().replace(/^Call failed: /, "");
    return { ok: false, error: said || `busctl ${output.status === null ? "could not run" : `exit status ${output.status}`}` };
  }
  return { ok: true, values: parseBusctlReply(output.stdout) };
}

/** Reads busctl's plain rendering of a reply made of booleans, strings and arrays of strings. */
export function parseBusctlReply(text: string): DbusValue[] {
  const tokens = tokenize(text.trim());
  const signature = tokens.shift() ?? "";
  const values: DbusValue[] = [];
  for (let i = 0; i < signature.length; i++) {
    const type = signature[i];
    if (type === "b") {
      values.push(takeToken(tokens, text) === "true");
    } else if (type === "s") {
      values.push(takeToken(tokens, text));
    } else if (type === "a" && signature[i + 1] === "s") {
      const count = Number(takeToken(tokens, text));
      values.push(Array.from({ length: count }, () => takeToken(tokens, text)));
      i++;
    } else {
      throw new CniError(ErrorCode.FirewallFailed, `busctl replied with D-Bus type "${signature}", which is not expected here: ${text}`);
    }
  }
  return values;
}

function takeToken(tokens: string[], text: string): string {
  const token = tokens.shift();
  if (token === undefined) throw new CniError(ErrorCode.FirewallFailed, `busctl's reply ended early: ${text}`);
  return token;
}

/** Splits on spaces; double quotes group, and inside them a backslash escapes (C style, as busctl prints). */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    tokens.push(match[1] !== undefined ? unescapeC(match[1]) : match[2]!);
  }
  return tokens;
}

const C_ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" };

function unescapeC(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, escape: string) => {
    if (escape.startsWith("x")) return String.fromCharCode(parseInt(escape.slice(1), 16));
    if (/^[0-7]+$/.test(escape)) return String.fromCharCode(parseInt(escape, 8));
    return C_ESCAPES[escape] ?? escape;
  });
}
