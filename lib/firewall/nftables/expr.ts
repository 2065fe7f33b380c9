/**
 * Turns the expressions of a rule from `nft -j list` back into nft syntax, in the same spelling
 * rules are written in ("ip saddr == 10.1.2.3 ip daddr != 10.1.2.0/24 masquerade"), so a rule
 * read back can be compared with the text that created it. Expressions this does not know are
 * rendered as their JSON, which never equals a rule we wrote.
 */
export function describeRule(expressions: readonly unknown[]): string {
  return expressions.map(describeStatement).join(" ");
}

type Json = Record<string, unknown>;

/** Statements nft -j prints as {"<name>": null}. */
const BARE_STATEMENTS = ["accept", "drop", "return", "continue", "masquerade"];

function describeStatement(statement: unknown): string {
  if (!isObject(statement)) return JSON.stringify(statement);
  const [kind, body] = Object.entries(statement)[0] ?? ["", undefined];
  if (kind === "match" && isObject(body)) {
    return `${describeValue(body.left)} ${String(body.op)} ${describeValue(body.right)}`;
  }
  if ((kind === "jump" || kind === "goto") && isObject(body)) return `${kind} ${String(body.target)}`;
  if (BARE_STATEMENTS.includes(kind) && body === null) return kind;
  if ((kind === "dnat" || kind === "snat") && isObject(body) && body.family === undefined) return `${kind} to ${natTarget(body)}`;
  return JSON.stringify(statement);
}

function describeValue(value: unknown): string {
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (isObject(value)) {
    if (isObject(value.payload)) return `${String(value.payload.protocol)} ${String(value.payload.field)}`;
    if (isObject(value.meta)) return `meta ${String(value.meta.key)}`;
    if (isObject(value.prefix)) return `${String(value.prefix.addr)}/${String(value.prefix.len)}`;
    if (isObject(value.fib) && Array.isArray(value.fib.flags)) return `fib ${value.fib.flags.join(" . ")} ${String(value.fib.result)}`;
  }
  return JSON.stringify(value);
}

/** "10.1.2.3:80", "[fd00::3]:80", or the address alone, as `dnat to` takes it in an ip or ip6 table. */
function natTarget(body: Json): string {
  const address = String(body.addr);
  if (body.port === undefined) return address;
  return `${address.includes(":") ? `[${address}]` : address}:${String(body.port)}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
