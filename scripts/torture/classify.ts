/**
 * What one plugin invocation's answer was, by the spec's contract: success with a result (or
 * nothing, for commands without one), a CNI error object with a code, or something that means
 * a bug: code 999, a stack trace or a Go panic, output that is not JSON, death by a signal, or
 * no answer within the time limit.
 */

export type InvocationClass = "ok" | "error" | "crash" | "hang";

export interface Classified {
  class: InvocationClass;
  /** The error object's code, when there is one. */
  code?: number;
  /** Why a crash is a crash, or the error's message, in a line. */
  detail: string;
}

export interface Answer {
  status: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Commands whose success prints a JSON object (ADD's result, VERSION's versions). */
const PRINTS_ON_SUCCESS = new Set(["ADD", "VERSION"]);

/** A JavaScript stack frame ("    at f (file.js:1:2)") or a Go panic. */
const STACK_TRACE = /^\s+at .+:\d+(:\d+)?\)?$|^panic: |^goroutine \d+ \[/m;

export function classify(command: string, answer: Answer): Classified {
  if (answer.timedOut) return { class: "hang", detail: "no answer in time: killed" };
  if (answer.signal) return { class: "crash", detail: `killed by ${answer.signal}` };
  if (STACK_TRACE.test(answer.stderr)) {
    return { class: "crash", detail: `stack trace on stderr: ${firstLine(answer.stderr.match(/^(?:panic: |.*Error).*$/m)?.[0] ?? answer.stderr)}` };
  }
  const json = parseJson(answer.stdout);
  if (answer.status === 0) {
    if (!PRINTS_ON_SUCCESS.has(command)) return { class: "ok", detail: "" };
    if (isObject(json)) return { class: "ok", detail: "" };
    return { class: "crash", detail: `exit 0 without a JSON result: ${describeOutput(answer.stdout)}` };
  }
  if (!isObject(json)) return { class: "crash", detail: `exit ${answer.status} without an error object: ${describeOutput(answer.stdout || answer.stderr)}` };
  const { code, msg } = json;
  if (typeof code !== "number" || typeof msg !== "string") {
    return { class: "crash", detail: `exit ${answer.status} with a malformed error object: ${describeOutput(answer.stdout)}` };
  }
  if (code === 999) return { class: "crash", code, detail: `code 999: ${firstLine(msg)}` };
  return { class: "error", code, detail: firstLine(msg) };
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

function describeOutput(text: string): string {
  return text.trim() === "" ? "(nothing)" : JSON.stringify(firstLine(text));
}
