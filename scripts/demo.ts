/**
 * The demo: three network namespaces play containers on one bridge network, configured by our
 * plugins through our cnitool exactly as a runtime would, with the chain podman writes plus
 * bandwidth. Every claim it prints is checked; any failed check fails the demo. It cleans up
 * after itself, also when interrupted, and touches nothing it did not create.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

const DIST = resolve(process.env.CNI_DIST ?? "dist");
const BIN = join(DIST, "bin");
const TAG = randomBytes(2).toString("hex");
const NETWORK = `cnidemo${TAG}`;
const BRIDGE = `cnidemo${TAG}`;
const SUBNET_PREFIX = `10.${100 + (randomBytes(1)[0]! % 100)}.${randomBytes(1)[0]}`;
const SUBNET6_PREFIX = `fd${randomBytes(1).toString("hex")}:${(randomBytes(2).readUInt16BE() | 0x1000).toString(16)}::`;
const HOST_PORT = 18000 + (randomBytes(1)[0]! % 200);
const RATE_BITS = 20_000_000;
/** Where cnitool (like libcni) caches results. */
const CACHE_DIR = "/var/lib/cni/results";
const CONTAINERS = ["web", "client", "sink"].map((role) => ({ role, netns: `demo-${TAG}-${role}` }));

const workDir = mkdtempSync(join(tmpdir(), "cni-demo-"));
const confDir = join(workDir, "net.d");
const dataDir = join(workDir, "ipam");
const siteDir = join(workDir, "site");
/** Host-side interfaces the ADDs reported (veths, ifb devices): all must be gone after DEL. */
const hostInterfaces: string[] = [];
let failures = 0;

const color = (code: number) => (text: string) => (process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = color(1);
const green = color(32);
const red = color(31);
const dim = color(2);

function step(title: string): void {
  console.log(`\n${bold(`== ${title}`)}`);
}

function check(claim: string, ok: boolean, detail = ""): void {
  if (ok) console.log(`  ${green("ok")}   ${claim}${detail ? dim(`  (${detail})`) : ""}`);
  else {
    failures++;
    console.log(`  ${red("FAIL")} ${claim}${detail ? `  (${detail})` : ""}`);
  }
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}): { status: number; stdout: string; stderr: string } {
  const child = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, ...options });
  return { status: child.status ?? -1, stdout: String(child.stdout ?? ""), stderr: String(child.stderr ?? "") };
}

function cnitool(command: string, netns: string, capArgs?: object) {
  const started = performance.now();
  const outcome = run(join(BIN, "cnitool"), [command, NETWORK, `/run/netns/${netns}`], {
    env: {
      PATH: process.env.PATH,
      NETCONFPATH: confDir,
      CNI_PATH: BIN,
      ...(capArgs ? { CAP_ARGS: JSON.stringify(capArgs) } : {}),
    },
  });
  return { ...outcome, ms: performance.now() - started };
}

function inNetns(netns: string, command: string[]) {
  return run("ip", ["netns", "exec", netns, ...command]);
}

function writeConflist(): void {
  mkdirSync(confDir, { recursive: true });
  const conflist = {
    cniVersion: "1.0.0",
    name: NETWORK,
    plugins: [
      {
        type: "bridge",
        bridge: BRIDGE,
        isGateway: true,
        isDefaultGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          dataDir,
          ranges: [[{ subnet: `${SUBNET_PREFIX}.0/24` }], [{ subnet: `${SUBNET6_PREFIX}/64` }]],
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "firewall" },
      { type: "tuning", sysctl: { "net.ipv4.conf.IFNAME.arp_notify": "1" } },
      {
        type: "bandwidth",
        ingressRate: RATE_BITS,
        ingressBurst: RATE_BITS / 8,
        egressRate: RATE_BITS,
        egressBurst: RATE_BITS / 8,
      },
    ],
  };
  writeFileSync(join(confDir, "10-demo.conflist"), JSON.stringify(conflist, null, 2));
  console.log(dim(JSON.stringify(conflist.plugins.map((plugin) => plugin.type))));
}

function addressOf(netns: string, family: 4 | 6): string | undefined {
  const out = run("ip", ["-n", netns, `-${family}`, "-j", "addr", "show", "dev", "eth0", "scope", "global"]).stdout;
  const [link] = JSON.parse(out || "[]") as { addr_info: { local: string }[] }[];
  return link?.addr_info[0]?.local;
}

/** Stops the servers started inside a namespace (httpd, iperf3). */
function stopProcessesIn(netns: string): void {
  for (const pid of run("ip", ["netns", "pids", netns]).stdout.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGTERM");
    } catch {
      // already gone
    }
  }
}

function cleanup(): void {
  for (const { netns } of CONTAINERS) {
    if (run("ip", ["netns", "pids", netns]).status === 0) {
      stopProcessesIn(netns);
      cnitool("del", netns);
      run("ip", ["netns", "delete", netns]);
    }
  }
  run("ip", ["link", "delete", BRIDGE]);
  rmSync(workDir, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.log(`\n${signal}: cleaning up`);
    cleanup();
    process.exit(130);
  });
}

function main(): void {
  console.log(bold(`CNI plugins in TypeScript: demo (network ${NETWORK}, subnets ${SUBNET_PREFIX}.0/24 and ${SUBNET6_PREFIX}/64)`));
  console.log(dim(`plugins and cnitool from ${BIN}`));

  step("1. A network configuration list: bridge + host-local -> portmap -> firewall -> tuning -> bandwidth");
  writeConflist();

  step("2. Three namespaces play containers; cnitool adds each one to the network");
  const addTimes: number[] = [];
  for (const { role, netns } of CONTAINERS) {
    run("ip", ["netns", "add", netns]);
    const capArgs = role === "web" ? { portMappings: [{ hostPort: HOST_PORT, containerPort: 80, protocol: "tcp" }] } : undefined;
    const outcome = cnitool("add", netns, capArgs);
    addTimes.push(outcome.ms);
    if (outcome.status === 0) {
      const result = JSON.parse(outcome.stdout) as { interfaces?: { name: string; sandbox?: string }[] };
      hostInterfaces.push(...(result.interfaces ?? []).filter((intf) => !intf.sandbox && intf.name !== BRIDGE).map((intf) => intf.name));
    }
    check(`cnitool add ${role} (${netns})`, outcome.status === 0, outcome.status === 0 ? `${outcome.ms.toFixed(0)} ms` : outcome.stdout + outcome.stderr);
  }
  if (failures > 0) return;

  step("3. What each container got");
  for (const { role, netns } of CONTAINERS) {
    console.log(bold(`  ${role}:`));
    for (const line of run("ip", ["-n", netns, "-br", "addr"]).stdout.trim().split("\n")) console.log(`    ${line}`);
    for (const line of run("ip", ["-n", netns, "route"]).stdout.trim().split("\n")) console.log(dim(`    ${line}`));
  }

  step("4. Containers reach each other over IPv4 and IPv6");
  const [web, client, sink] = CONTAINERS.map(({ netns }) => netns) as [string, string, string];
  for (const [from, to] of [[client, web], [web, sink], [sink, client]] as const) {
    for (const family of [4, 6] as const) {
      const target = addressOf(to, family);
      const ping = inNetns(from, ["ping", `-${family}`, "-c", "2", "-W", "2", target ?? "none"]);
      check(`ping -${family} ${from} -> ${to} (${target})`, ping.status === 0, ping.stdout.match(/time=[\d.]+ ms/)?.[0] ?? ping.stderr.trim());
    }
  }

  step(`5. A page served inside "web" answers on host port ${HOST_PORT} (portmap)`);
  mkdirSync(siteDir, { recursive: true });
  writeFileSync(join(siteDir, "index.html"), `hello from ${web}\n`);
  const httpd = spawnSync("ip", ["netns", "exec", web, "busybox", "httpd", "-p", "80", "-h", siteDir], { encoding: "utf8" });
  check("busybox httpd started in web", httpd.status === 0, httpd.stderr.trim());
  const fetchFrom = (where: string, url: string, netns?: string) => {
    const args = ["--silent", "--max-time", "5", "--noproxy", "*", url];
    const outcome = netns ? inNetns(netns, ["curl", ...args]) : run("curl", args);
    check(`GET ${url} from ${where}`, outcome.stdout.includes(`hello from ${web}`), outcome.stdout.trim() || `curl exit ${outcome.status}`);
  };
  fetchFrom("the host", `http://127.0.0.1:${HOST_PORT}/`);
  fetchFrom("the client container, through the bridge gateway", `http://${SUBNET_PREFIX}.1:${HOST_PORT}/`, client);

  step(`6. Shaped bandwidth: ${RATE_BITS / 1e6} Mbit/s configured, measured with iperf3 client -> sink`);
  const server = spawnSync("ip", ["netns", "exec", sink, "iperf3", "-s", "-D", "-1"], { encoding: "utf8" });
  check("iperf3 server started in sink", server.status === 0, server.stderr.trim());
  const measured = inNetns(client, ["iperf3", "-c", addressOf(sink, 4) ?? "none", "-t", "3", "-J"]);
  const bitsPerSecond = measured.status === 0 ? (JSON.parse(measured.stdout).end.sum_received.bits_per_second as number) : 0;
  const ratio = bitsPerSecond / RATE_BITS;
  check(`measured ${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s is within 25% of the limit`, ratio > 0.75 && ratio < 1.25, `${(ratio * 100).toFixed(0)}% of the limit`);

  step("7. cnitool deletes each container from the network");
  const delTimes: number[] = [];
  for (const { role, netns } of CONTAINERS) {
    const outcome = cnitool("del", netns);
    delTimes.push(outcome.ms);
    check(`cnitool del ${role}`, outcome.status === 0, outcome.status === 0 ? `${outcome.ms.toFixed(0)} ms` : outcome.stdout + outcome.stderr);
  }
  for (const { netns } of CONTAINERS) stopProcessesIn(netns);

  step("8. Nothing is left behind");
  const leftoverVeths = run("ip", ["-o", "link", "show", "master", BRIDGE]).stdout.trim();
  check("no port left on the bridge", leftoverVeths === "", leftoverVeths);
  const leases = readdirSync(join(dataDir, NETWORK)).filter((file) => /^[0-9a-f.:]+$/.test(file) && /[.:]/.test(file) && !file.startsWith("last"));
  check("no address lease left", leases.length === 0, leases.join(", "));
  const rules = ["iptables-save", "ip6tables-save"].map((tool) => run(tool, []).stdout).join("\n");
  const ruleLeft = rules.split("\n").filter((line) => line.includes(NETWORK));
  check("no iptables rule of the network left", ruleLeft.length === 0, ruleLeft.slice(0, 2).join(" | "));
  const nft = run("nft", ["list", "ruleset"]).stdout;
  check("no nftables rule of the network left", !nft.includes(NETWORK));
  const stillThere = hostInterfaces.filter((name) => run("ip", ["link", "show", "dev", name]).status === 0);
  check(`none of the ${hostInterfaces.length} host-side interfaces (veths, ifb) is left`, stillThere.length === 0, stillThere.join(", "));
  const caches = existsSync(CACHE_DIR) ? readdirSync(CACHE_DIR).filter((name) => name.startsWith(`${NETWORK}-`)) : [];
  check(`no cached result left in ${CACHE_DIR}`, caches.length === 0, caches.join(", "));
  console.log(dim("  (the shared, empty chains CNI-FORWARD and CNI-HOSTPORT-* stay, as the reference plugins leave them for the next container)"));

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  step("Summary");
  console.log(`  ADD per container (5 plugins): median ${median(addTimes).toFixed(0)} ms; DEL: median ${median(delTimes).toFixed(0)} ms`);
}

try {
  main();
} catch (error) {
  failures++;
  console.log(red(`demo aborted: ${(error as Error).stack ?? String(error)}`));
} finally {
  cleanup();
}
if (failures > 0) {
  console.log(red(bold(`\n${failures} check(s) failed.`)));
  process.exit(1);
}
console.log(green(bold("\nDemo succeeded: every check passed and everything was cleaned up.")));
