import { CniError, ErrorCode, invalidEnvironment } from "../core/index.ts";

export const COMMANDS = ["ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION"] as const;
export type Command = (typeof COMMANDS)[number];

/** The attachment-scoped parameters ADD, DEL and CHECK carry. */
export interface AttachmentInvocation {
  command: "ADD" | "DEL" | "CHECK";
  containerId: string;
  /** Empty only for DEL, where the spec makes CNI_NETNS optional. */
  netns: string;
  ifname: string;
  args: string;
  path: string[];
}

export interface NetworkInvocation {
  command: "GC" | "STATUS";
  path: string[];
}

export type Invocation = AttachmentInvocation | NetworkInvocation | { command: "VERSION" };

type Env = Record<string, string | undefined>;

export function isNetworkInvocation(invocation: Invocation): invocation is NetworkInvocation {
  return invocation.command === "GC" || invocation.command === "STATUS";
}

const CONTAINER_ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAX_IFNAME_BYTES = 15;

export function parseCommand(env: Env): Command {
  const command = env.CNI_COMMAND ?? "";
  if (command === "") throw invalidEnvironment("CNI_COMMAND", "is not set");
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw invalidEnvironment("CNI_COMMAND", `unknown command "${command}" (expected one of ${COMMANDS.join(", ")})`);
  }
  return command as Command;
}

/**
 * Reads and validates the CNI_* variables the spec requires for the command. Missing required
 * variables are reported together, by name.
 */
export function parseInvocation(env: Env): Invocation {
  const command = parseCommand(env);
  if (command === "VERSION") return { command };
  const path = splitPath(env.CNI_PATH);
  if (command === "GC" || command === "STATUS") {
    if (command === "GC" && path.length === 0) throw missing(["CNI_PATH"]);
    return { command, path };
  }

  const required = command === "DEL" ? ["CNI_CONTAINERID", "CNI_IFNAME"] : ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"];
  const absent = required.filter((name) => !env[name]);
  if (absent.length > 0) throw missing(absent);

  const containerId = env.CNI_CONTAINERID!;
  validateContainerId(containerId);
  const ifname = env.CNI_IFNAME!;
  validateInterfaceName(ifname);
  return { command, containerId, netns: env.CNI_NETNS ?? "", ifname, args: env.CNI_ARGS ?? "", path };
}

function missing(names: string[]): CniError {
  return new CniError(ErrorCode.InvalidEnvironment, `required environment variables missing: ${names.join(", ")}`);
}

function splitPath(value: string | undefined): string[] {
  return (value ?? "").split(":").filter((dir) => dir !== "");
}

export function validateContainerId(containerId: string): void {
  if (!CONTAINER_ID_PATTERN.test(containerId)) {
    throw invalidEnvironment(
      "CNI_CONTAINERID",
      `"${containerId}" must start with a letter or digit and contain only letters, digits, "_", "." and "-"`,
    );
  }
}

/** The kernel's own rules for interface names (dev_valid_name). */
export function validateInterfaceName(ifname: string, variable = "CNI_IFNAME"): void {
  if (ifname === "") throw invalidEnvironment(variable, "interface name is empty");
  if (Buffer.byteLength(ifname) > MAX_IFNAME_BYTES) {
    throw invalidEnvironment(variable, `interface name "${ifname}" is longer than ${MAX_IFNAME_BYTES} bytes`);
  }
  if (ifname === "." || ifname === "..") throw invalidEnvironment(variable, `interface name "${ifname}" is not allowed`);
  if (/[/:\s]/u.test(ifname)) {
    throw invalidEnvironment(variable, `interface name "${ifname}" contains "/", ":" or whitespace`);
  }
}
