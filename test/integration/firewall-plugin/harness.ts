import { spawnSync } from "node:child_process";

/** Runs a command (optionally inside a namespace); throws with its stderr when it fails. */
export function run(command: string[], host?: string, input?: string): string {
  const [bin, ...args] = host ? ["ip", "netns", "exec", host, ...command] : command;
  const proc = spawnSync(bin!, args, { encoding: "utf8", input, timeout: 30_000 });
  if (proc.status !== 0) throw new Error(`${command.join(" ")} failed: ${proc.stderr}`);
  return proc.stdout;
}

/** The filter table of a family as iptables-save prints it: user chain declarations and -A lines. */
export function filterRules(family: 4 | 6, host?: string): string[] {
  return run([family === 4 ? "iptables-save" : "ip6tables-save", "-t", "filter"], host)
    .split("\n")
    .filter((line) => line.startsWith("-A ") || (line.startsWith(":") && !/^:(INPUT|FORWARD|OUTPUT) /.test(line)));
}

/** The rules that name a host address ("10.1.2.3/32"), as the firewall plugin writes them per address. */
export function rulesOfAddress(rules: string[], host: string): string[] {
  return rules.filter((line) => line.split(" ").includes(host));
}

/** "10.1.2.3/24" -> "10.1.2.3/32", "fd00::3/64" -> "fd00::3/128": how rules name a container address. */
export function hostRoute(cidr: string): string {
  const ip = cidr.split("/")[0]!;
  return `${ip}/${ip.includes(":") ? 128 : 32}`;
}

/** The reference's rules for one container address, as iptables-save prints them. */
export function addressRuleLines(cidr: string): string[] {
  const host = hostRoute(cidr);
  return [`-A CNI-FORWARD -d ${host} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `-A CNI-FORWARD -s ${host} -j ACCEPT`];
}

/** Our marker of a container address, which ties it to its attachment (no target, no effect). */
export function markerLine(cidr: string, tag: string): string {
  return `-A CNI-FORWARD -s ${hostRoute(cidr)} -m comment --comment "${tag}"`;
}

/** The lines without our markers: the reference's layout. */
export function withoutMarkers(lines: string[]): string[] {
  return lines.filter((line) => !/^-A CNI-FORWARD -s \S+ -m comment --comment "[0-9a-f]{16}-[0-9a-f]{16} firewall /.test(line));
}

export function familyOf(cidr: string): 4 | 6 {
  return cidr.includes(":") ? 6 : 4;
}

/** One ping, whether an answer came back within two seconds. */
export function pings(from: string, to: string): boolean {
  return spawnSync("ip", ["netns", "exec", from, "ping", "-c", "1", "-W", "2", to]).status === 0;
}
