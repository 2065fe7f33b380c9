/**
 * A rule as iptables-save prints it after "-A <chain>": a list of arguments. Rules are written
 * in that canonical form ("-s 10.1.2.3/32", matches before the target), so a rule we write and
 * the same rule read back compare equal argument by argument.
 */
export type RuleArgs = readonly string[];

/** Arguments written bare: names, addresses, negation, options. Anything else is quoted. */
const UNQUOTED = /^[A-Za-z0-9_.:/!,+=-]+$/;

/** Formats arguments as one line of iptables-restore input. */
export function formatArgs(args: RuleArgs): string {
  return args.map(quoteArg).join(" ");
}

function quoteArg(arg: string): string {
  if (UNQUOTED.test(arg)) return arg;
  // Inside double quotes iptables-restore takes a backslash to escape the next character.
  return `"${arg.replace(/["\\']/g, (char) => `\\${char}`)}"`;
}

/**
 * Splits one line of iptables-save output into arguments the way iptables-restore does:
 * whitespace separates, double quotes group, and inside quotes a backslash escapes.
 */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let inArg = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === "\\" && i + 1 < line.length) current += line[++i];
      else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      inArg = true;
    } else if (char === " " || char === "\t") {
      if (inArg) args.push(current);
      current = "";
      inArg = false;
    } else {
      current += char;
      inArg = true;
    }
  }
  if (inArg) args.push(current);
  return args;
}

/** The value following an option ("-j", "--comment"), if the rule has it. */
export function optionValue(args: RuleArgs, option: string): string | undefined {
  const index = args.indexOf(option);
  return index === -1 ? undefined : args[index + 1];
}

/** The chain a rule jumps or goes to, if any. */
export function ruleTarget(args: RuleArgs): string | undefined {
  return optionValue(args, "-j") ?? optionValue(args, "-g");
}

export function sameArgs(a: RuleArgs, b: RuleArgs): boolean {
  return a.length === b.length && a.every((arg, index) => arg === b[index]);
}
