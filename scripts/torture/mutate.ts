/**
 * Turning a valid request into a hostile one: mutations of the configuration (odd values,
 * removed keys, unknown keys, keys in another case, versions), of the CNI_* variables, and of
 * the bytes on stdin (cut, garbled, empty, binary, nested deeper than any decoder should
 * follow, duplicate keys). Every choice comes from the case's random stream and from the
 * shape of the seed configuration, never from values that differ between runs or suites, so a
 * seed names the same cases everywhere.
 */
import type { Random } from "./random.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonPath = (string | number)[];

/** Paths on this machine a hostile configuration could name, all inside the world's own directories. */
export interface OddPaths {
  fifo: string;
  /** A sparse file larger than any file a plugin should read. */
  bigFile: string;
  regularFile: string;
  emptyFile: string;
  directory: string;
  missing: string;
  /** A relative path that climbs out of a data directory but stays in the world's directory. */
  escape: string;
  /** A valid container ID of 1,000 bytes and more, carrying the world's token so its files are found. */
  longContainerId: string;
}

export interface Mutated {
  /** Its env.CNI_COMMAND is the command actually sent (or none). */
  env: Record<string, string>;
  stdin: Buffer;
  /** What was done, for the report: "ipam.subnet=null", "env CNI_NETNS=<fifo>", "stdin cut at 40/310". */
  mutations: string[];
}

const COMMANDS: readonly (readonly [number, string])[] = [
  [55, "ADD"],
  [15, "DEL"],
  [10, "CHECK"],
  [6, "STATUS"],
  [8, "GC"],
  [6, "VERSION"],
];

export function pickCommand(random: Random): string {
  return random.weighted(COMMANDS);
}

/** Mutates a valid request: its configuration, its environment, its stdin bytes, or several. */
export function mutateRequest(random: Random, config: Record<string, unknown>, env: Record<string, string>, command: string, paths: OddPaths): Mutated {
  const mutations: string[] = [];
  const value = structuredClone(config) as { [key: string]: Json };
  const newEnv = { ...env, CNI_COMMAND: command };
  const kind = random.weighted([
    [45, "config"],
    [20, "env"],
    [25, "stdin"],
    [10, "config+env"],
  ] as const);
  if (kind === "config" || kind === "config+env") {
    for (let i = random.int(1, 3); i > 0; i--) mutations.push(mutateConfig(random, value, paths));
  }
  if (kind === "env" || kind === "config+env") {
    for (let i = random.int(1, 2); i > 0; i--) mutations.push(mutateEnv(random, newEnv, paths));
  }
  let stdin: Buffer = Buffer.from(JSON.stringify(value));
  if (kind === "stdin") {
    const [bytes, what] = mutateStdin(random, value, paths);
    stdin = bytes;
    mutations.push(what);
  }
  return { stdin, env: newEnv, mutations };
}

// ---------------------------------------------------------------- configuration

const VERSIONS: Json[] = ["", "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", "1.2.0", "2.0.0", "1.0", "v1.0.0", "0.4.0 ", null, 1, [], {}];

const UNKNOWN_KEYS = ["unknownKey", "__proto__", "constructor", "toString", "hasOwnProperty", "", " ", "a".repeat(300), "ÿ", "cni.dev/valid-attachments"];

function oddValues(paths: OddPaths): Json[] {
  return [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    65535,
    65536,
    2 ** 31,
    2 ** 53 + 2,
    1e308,
    -1e308,
    "",
    " ",
    "x",
    "\u0000",
    "é",
    "💥",
    "A".repeat(5000),
    "10.0.0.1",
    "::1",
    "0.0.0.0/0",
    "300.1.1.1/24",
    "10.1.2.3/33",
    "fe80::1%eth0",
    "-1",
    "1e9",
    "true",
    "eth0",
    "lo",
    "/dev/null",
    "/dev/zero",
    paths.fifo,
    paths.bigFile,
    paths.regularFile,
    paths.emptyFile,
    paths.directory,
    paths.missing,
    paths.escape,
    [],
    [null],
    [""],
    [{}],
    {},
    { "": null },
    { type: "host-local" },
  ];
}

/** Paths first for a path, addresses for an address, numbers for a number: the odd values that reach furthest. */
function oddValueFor(random: Random, current: Json, paths: OddPaths): Json {
  const alike = alikeValues(current, paths);
  return alike && random.chance(0.65) ? random.pick(alike) : random.pick(oddValues(paths));
}

function alikeValues(current: Json, paths: OddPaths): Json[] | undefined {
  if (typeof current === "string" && current.startsWith("/")) {
    return ["", "/dev/null", "/dev/zero", "/proc/self/ns/net", paths.fifo, paths.bigFile, paths.regularFile, paths.emptyFile, paths.directory, paths.missing, paths.escape, `${paths.regularFile}/below`, "relative/path"];
  }
  if (typeof current === "string" && /^[0-9a-f:.]+(\/\d+)?$/i.test(current) && /[.:]/.test(current)) {
    return ["", "10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "::/0", "::1", "::ffff:10.0.0.1", "300.1.1.1/24", "10.1.2.3/33", "10.1.2.3/-1", "fe80::1%eth0", "1.2.3.4/32", "10.0.0.1-10.0.0.5", "224.0.0.1", "255.255.255.255", "c2:b0:57:49:47:f1"];
  }
  if (typeof current === "number") return [0, -1, 1, 0.5, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 1e308, -1e308, "1", null];
  if (typeof current === "boolean") return [!current, "true", "false", 1, 0, null];
  return undefined;
}

/** Every node of the value, depth first in key order, with its path. */
function nodes(value: Json, path: JsonPath = []): { path: JsonPath; value: Json }[] {
  const found = [{ path, value }];
  if (Array.isArray(value)) value.forEach((item, index) => found.push(...nodes(item, [...path, index])));
  else if (value !== null && typeof value === "object") for (const key of Object.keys(value)) found.push(...nodes(value[key]!, [...path, key]));
  return found;
}

function formatPath(path: JsonPath): string {
  if (path.length === 0) return "(root)";
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? key : `.${key}`)).join("");
}

function parentOf(root: Json, path: JsonPath): { [key: string]: Json } | Json[] {
  let current = root;
  for (const key of path.slice(0, -1)) current = (current as Record<string | number, Json>)[key]!;
  return current as { [key: string]: Json } | Json[];
}

function setAt(root: Json, path: JsonPath, value: Json): void {
  const parent = parentOf(root, path) as Record<string | number, Json>;
  parent[path.at(-1)!] = value;
}

function removeAt(root: Json, path: JsonPath): void {
  const parent = parentOf(root, path);
  const key = path.at(-1)!;
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key as string];
}

function describe(value: Json): string {
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function mutateConfig(random: Random, root: { [key: string]: Json }, paths: OddPaths): string {
  const all = nodes(root);
  const inner = all.filter((node) => node.path.length > 0);
  const objects = all.filter((node) => node.value !== null && typeof node.value === "object" && !Array.isArray(node.value));
  const operation = random.weighted([
    [25, "odd"],
    [20, "remove"],
    [10, "unknown"],
    [10, "case"],
    [10, "version"],
    [15, "swap"],
    [10, "copy"],
  ] as const);
  if (inner.length === 0 || operation === "version") {
    const version = random.pick(VERSIONS);
    root.cniVersion = version;
    return `cniVersion=${describe(version)}`;
  }
  switch (operation) {
    case "odd": {
      const node = random.pick(inner);
      const value = oddValueFor(random, node.value, paths);
      setAt(root, node.path, value);
      return `${formatPath(node.path)}=${describe(value)}`;
    }
    case "remove": {
      const node = random.pick(inner);
      removeAt(root, node.path);
      return `${formatPath(node.path)} removed`;
    }
    case "unknown": {
      const node = random.pick(objects);
      const key = random.pick(UNKNOWN_KEYS);
      const value = random.pick(oddValues(paths));
      Object.defineProperty(node.value, key, { value, enumerable: true, writable: true, configurable: true });
      return `${formatPath([...node.path, key])} added as ${describe(value)}`;
    }
    case "case": {
      const node = random.pick(objects.filter((object) => Object.keys(object.value as object).length > 0).concat([{ path: [], value: root }]));
      const object = node.value as { [key: string]: Json };
      const key = random.pick(Object.keys(object));
      const renamed = random.pick([key.toUpperCase(), key.toLowerCase(), key.charAt(0).toUpperCase() + key.slice(1)]);
      const value = object[key]!;
      delete object[key];
      object[renamed] = value;
      return `${formatPath([...node.path, key])} renamed ${renamed}`;
    }
    case "swap": {
      const node = random.pick(inner);
      const value = swapType(random, node.value);
      setAt(root, node.path, value);
      return `${formatPath(node.path)} retyped to ${describe(value)}`;
    }
    case "copy": {
      const from = random.pick(inner);
      const into = random.pick(inner);
      setAt(root, into.path, structuredClone(from.value));
      return `${formatPath(into.path)} replaced by a copy of ${formatPath(from.path)}`;
    }
  }
}

function swapType(random: Random, value: Json): Json {
  if (typeof value === "string") return random.pick([Number.parseFloat(value) || 0, value === "true", [value], { value }]);
  if (typeof value === "number") return random.pick([String(value), [value], value > 0, -value, value + 0.5]);
  if (typeof value === "boolean") return random.pick([String(value), Number(value), [value]]);
  if (Array.isArray(value)) return random.pick([value[0] ?? null, { ...value }, JSON.stringify(value)]);
  if (value === null) return random.pick(["null", 0, false]);
  return random.pick([[value], JSON.stringify(value), Object.values(value)[0] ?? null]);
}

// ---------------------------------------------------------------- environment

function oddEnvValues(variable: string, paths: OddPaths, env: Record<string, string>): string[] {
  switch (variable) {
    case "CNI_COMMAND":
      return ["", "add", "ADD ", "FOO", "VERSION", "GC", "STATUS", "CHECK", "DEL", "ADD\n"];
    case "CNI_CONTAINERID":
      return ["", " ", "-x", ".", "..", "a/b", "../../x", paths.longContainerId, "é", "a b", "a;b", "\t", "x\ny"];
    case "CNI_NETNS":
      return ["", "/nonexistent/netns", "/dev/null", "/dev/zero", paths.fifo, paths.regularFile, paths.directory, "/proc/self/ns/net", "/proc/self/ns/mnt", "relative/netns", "/run/netns/"];
    case "CNI_IFNAME":
      return ["", "eth0", "lo", "a".repeat(16), "a".repeat(15), "a/b", "a:b", "a b", ".", "..", "é", "eth0\n"];
    case "CNI_ARGS":
      return ["x", "=", "a=b=c", "IgnoreUnknown=1", "IgnoreUnknown=true;IP=10.0.0.1", "IP=garbage", "IgnoreUnknown=1;IP=garbage", "K8S_POD_NAME=x", ";;;", "a=".repeat(5000), "IgnoreUnknown=1;MAC=zz"];
    default:
      return ["", "/nonexistent", "/", "/dev/null", ":", `${env.CNI_PATH}:${env.CNI_PATH}`, paths.fifo];
  }
}

const VARIABLES = ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"];

function mutateEnv(random: Random, env: Record<string, string>, paths: OddPaths): string {
  const variable = random.pick(VARIABLES);
  if (random.chance(0.25)) {
    delete env[variable];
    return `env ${variable} unset`;
  }
  const value = random.pick(oddEnvValues(variable, paths, env));
  env[variable] = value;
  return `env ${variable}=${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
}

// ---------------------------------------------------------------- stdin bytes

const DEPTHS = [64, 1000, 9999, 10_000, 10_001, 20_000, 50_000];

function mutateStdin(random: Random, root: { [key: string]: Json }, paths: OddPaths): [Buffer, string] {
  const text = JSON.stringify(root);
  const operation = random.weighted([
    [15, "cut"],
    [15, "garble"],
    [5, "empty"],
    [5, "binary"],
    [5, "scalar"],
    [20, "deep"],
    [15, "duplicate"],
    [5, "bom"],
    [5, "trailing"],
    [5, "huge"],
    [5, "utf8"],
  ] as const);
  switch (operation) {
    case "cut": {
      const at = random.int(0, text.length - 1);
      return [Buffer.from(text.slice(0, at)), `stdin cut at ${at}/${text.length}`];
    }
    case "garble": {
      const bytes = Buffer.from(text);
      const count = random.int(1, 8);
      for (let i = 0; i < count; i++) bytes[random.int(0, bytes.length - 1)] = random.int(0, 255);
      return [bytes, `stdin: ${count} bytes garbled`];
    }
    case "empty":
      return [Buffer.alloc(0), "stdin empty"];
    case "binary": {
      const length = random.int(1, 4096);
      return [random.bytes(length), `stdin: ${length} random bytes`];
    }
    case "scalar": {
      const scalar = random.pick(["null", "[]", "42", '"s"', "true", "{}", " ", "[{}]"]);
      return [Buffer.from(scalar), `stdin ${JSON.stringify(scalar)}`];
    }
    case "deep": {
      const depth = random.pick(DEPTHS);
      const [open, close] = random.pick([["[", "]"], ['{"a":', "}"]] as const);
      const nested = open.repeat(depth) + (open === "[" ? "" : "1") + close.repeat(depth);
      const objects = nodes(root).filter((node) => node.value !== null && typeof node.value === "object" && !Array.isArray(node.value));
      const target = random.pick(objects);
      const marker = "__tt_deep_marker__";
      (target.value as { [key: string]: Json })[marker] = marker;
      const spliced = JSON.stringify(root).replace(`"${marker}":"${marker}"`, `"deep":${nested}`);
      delete (target.value as { [key: string]: Json })[marker];
      return [Buffer.from(spliced), `stdin: ${open === "[" ? "arrays" : "objects"} nested ${depth} deep at ${formatPath([...target.path, "deep"])}`];
    }
    case "duplicate": {
      const objects = nodes(root).filter(
        (node) => node.value !== null && typeof node.value === "object" && !Array.isArray(node.value) && Object.keys(node.value).length > 0,
      );
      const target = random.pick(objects);
      const key = random.pick(Object.keys(target.value as object));
      const value = random.pick(oddValues(paths));
      return [Buffer.from(serializeWithDuplicate(root, target.path, key, value)), `stdin: ${formatPath([...target.path, key])} given twice, then ${describe(value)}`];
    }
    case "bom":
      return [Buffer.from(`\ufeff${text}`), "stdin with a byte order mark"];
    case "trailing": {
      const tail = random.pick([" x", "{}", ",", "\u0000", "]"]);
      return [Buffer.from(text + tail), `stdin followed by ${JSON.stringify(tail)}`];
    }
    case "huge": {
      const spliced = text.replace(/^\{/, `{"huge":"${"h".repeat(1 << 20)}",`);
      return [Buffer.from(spliced), "stdin with a 1 MiB string"];
    }
    case "utf8": {
      const bytes = Buffer.from(text);
      const at = random.int(0, bytes.length);
      return [Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), bytes.subarray(at)]), `stdin with invalid UTF-8 at ${at}`];
    }
  }
}

/** JSON text of `root` in which the object at `path` has `key` once more at its end, with `value`. */
export function serializeWithDuplicate(root: Json, path: JsonPath, key: string, value: Json): string {
  const write = (node: Json, at: JsonPath): string => {
    if (Array.isArray(node)) return `[${node.map((item, index) => write(item, [...at, index])).join(",")}]`;
    if (node === null || typeof node !== "object") return JSON.stringify(node);
    const members = Object.keys(node).map((name) => `${JSON.stringify(name)}:${write(node[name]!, [...at, name])}`);
    if (at.length === path.length && at.every((part, index) => part === path[index])) members.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    return `{${members.join(",")}}`;
  };
  return write(root, []);
}
