/**
 * The multi-node demo (`npm run demo -- --nodes 3`): a Kubernetes-style cluster on one host.
 * Nodes are network namespaces on an underlay (topology.ts), each with its own pod CIDR and
 * host-gw routes to the others'. On every node, `cni install` puts the plugins and the node's
 * configuration list into that node's directories, as the DaemonSet's pod would; then each
 * node's runtime (kubelet.ts), running inside the node's namespace, adds pods with our bridge +
 * host-local and portmap. Pods ping across nodes, a published port is reached from other nodes,
 * every pod is deleted and nothing may remain on any node. Every line marked `ok` is checked.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bold, check, dim, failureCount, green, recordFailure, red, run, step } from "./report.ts";
import { buildNodes, planCluster, removeNodes, routePodCidrs, type Cluster, type ClusterNode } from "./topology.ts";

const DIST = resolve(process.env.CNI_DIST ?? "dist");
const KUBELET = fileURLToPath(new URL("./kubelet.ts", import.meta.url));
const NETWORK = "cluster";
const HOST_PORT = 8080;
const TAG = randomBytes(2).toString("hex");

interface Pod {
  node: ClusterNode;
  role: "web" | "client";
  /** The container ID the runtime uses for it. */
  id: string;
  netns: string;
  address?: string;
  /** busybox httpd serving inside a web pod, and the file it logs requests to. */
  server?: { pid: number; log: string };
}

function nodeCount(args: string[]): number {
  const flag = args.findIndex((arg) => arg === "--nodes" || arg.startsWith("--nodes="));
  const text = flag < 0 ? "3" : args[flag]!.includes("=") ? args[flag]!.split("=")[1]! : args[flag + 1];
  const count = Number(text);
  if (!Number.isInteger(count) || count < 2 || count > 9) {
    console.error(`--nodes takes a number from 2 to 9 (got ${text ?? "nothing"})`);
    process.exit(2);
  }
  return count;
}

const workDir = mkdtempSync(join(tmpdir(), "cni-cluster-"));
const cluster: Cluster = planCluster(nodeCount(process.argv.slice(2)), TAG, workDir);
const pods: Pod[] = cluster.nodes.flatMap((node) =>
  (["web", "client"] as const).map((role) => ({ node, role, id: `${TAG}-${node.name}-${role}`, netns: `nd${TAG}-${node.name}-${role}` })),
);
const podName = (pod: Pod) => `${pod.node.name}/${pod.role}`;

/** The node's runtime networking one pod, inside the node's namespace. */
function kubelet(command: "add" | "del", pod: Pod) {
  const port = pod.role === "web" ? [`${HOST_PORT}:80`] : [];
  return run("ip", ["netns", "exec", pod.node.netns, process.execPath, KUBELET, command, pod.node.dir, pod.id, `/run/netns/${pod.netns}`, ...port]);
}

function inNetns(netns: string, command: string[]) {
  return run("ip", ["netns", "exec", netns, ...command]);
}

/** A template for every node: the installer fills in the pod CIDR; each node keeps its leases in its own directory. */
function writeTemplate(): string {
  const template = join(workDir, "template.conflist");
  const text = `{
  "cniVersion": "1.0.0",
  "name": "${NETWORK}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "isDefaultGateway": true,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "${workDir}/__NODE_NAME__/var/lib/cni/networks", "ranges": __POD_CIDR_RANGES__ }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
`;
  writeFileSync(template, text);
  return template;
}

function installOnNode(node: ClusterNode, template: string) {
  const args = ["install", "--bin-dir", join(node.dir, "opt/cni/bin"), "--conf-dir", join(node.dir, "etc/cni/net.d"), "--template", template];
  return inNetns(node.netns, [join(DIST, "cni"), ...args, "--pod-cidr", node.podCidr, "--node-name", node.name]);
}

function startWebServer(pod: Pod): void {
  const site = join(workDir, `site-${pod.node.name}`);
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, "index.html"), `hello from ${podName(pod)}\n`);
  const log = join(workDir, `httpd-${pod.node.name}.log`);
  const logFd = openSync(log, "a");
  // -f: stays in the foreground, so this process knows its PID; -vv: logs each client's address.
  const server = spawn("ip", ["netns", "exec", pod.netns, "busybox", "httpd", "-f", "-vv", "-p", "80", "-h", site], { stdio: ["ignore", "ignore", logFd], detached: true });
  closeSync(logFd);
  server.unref();
  pod.server = { pid: server.pid!, log };
}

function stopWebServers(): void {
  for (const pod of pods) {
    if (!pod.server) continue;
    try {
      process.kill(pod.server.pid, "SIGTERM");
    } catch {
      // already gone
    }
    pod.server = undefined;
  }
}

/** Lines of the node's iptables and nftables rule sets that name one of `podsOnNode` (its ID or address). */
function firewallLinesNaming(node: ClusterNode, podsOnNode: Pod[]): string[] {
  const rules = inNetns(node.netns, ["iptables-save"]).stdout + inNetns(node.netns, ["nft", "list", "ruleset"]).stdout;
  const names = (line: string, pod: Pod) => line.includes(pod.id) || (pod.address !== undefined && (line.includes(`${pod.address}/`) || line.includes(`${pod.address}:`)));
  return rules.split("\n").filter((line) => podsOnNode.some((pod) => names(line, pod)));
}

/** Whether the web pod's server logged a request from `address` (busybox prints "[::ffff:10.1.2.3]:port: url:/"). */
function servedTo(web: Pod, address: string): boolean {
  const log = existsSync(web.server!.log) ? readFileSync(web.server!.log, "utf8") : "";
  return new RegExp(`^\\[?(::ffff:)?${address.replace(/\./g, "\\.")}\\]?:\\d+: url:/`, "m").test(log);
}

function fetchPage(where: string, url: string, netns: string, expected: string): boolean {
  let outcome = inNetns(netns, ["curl", "--silent", "--max-time", "5", url]);
  // The server was just started: give it a moment once.
  if (!outcome.stdout.includes(expected)) outcome = inNetns(netns, ["curl", "--silent", "--max-time", "5", url]);
  return check(`GET ${url} from ${where}`, outcome.stdout.includes(expected), outcome.stdout.trim() || `curl exit ${outcome.status}`);
}

function cleanup(): void {
  stopWebServers();
  for (const pod of pods) {
    if (run("ip", ["netns", "pids", pod.netns]).status === 0) {
      kubelet("del", pod);
      run("ip", ["netns", "delete", pod.netns]);
    }
  }
  removeNodes(cluster);
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
  const count = cluster.nodes.length;
  console.log(bold(`CNI plugins in TypeScript: a ${count}-node cluster on one host (cluster CIDR ${cluster.clusterCidr}, underlay ${cluster.underlay})`));
  console.log(dim(`nodes are network namespaces; the plugins come from ${join(DIST, "cni")} through cni install`));

  step(`1. ${count} nodes on an underlay bridge, each with a pod CIDR of its own`);
  buildNodes(cluster);
  for (const node of cluster.nodes) console.log(`  ${node.name}  ${node.address.padEnd(15)} pod CIDR ${node.podCidr}  ${dim(`(namespace ${node.netns})`)}`);
  for (const node of cluster.nodes.slice(1)) {
    const ping = inNetns(cluster.nodes[0]!.netns, ["ping", "-c", "1", "-W", "2", node.address]);
    check(`node1 reaches ${node.name} over the underlay`, ping.status === 0, ping.stdout.match(/time=[\d.]+ ms/)?.[0] ?? ping.stderr.trim());
  }

  step("2. Routes to the other nodes' pod CIDRs via their underlay addresses (host-gw, as kubenet routes)");
  routePodCidrs(cluster);
  for (const node of cluster.nodes) {
    const routes = run("ip", ["-n", node.netns, "route", "show", "root", cluster.clusterCidr]).stdout.trim().split("\n");
    console.log(`  ${node.name}: ${routes.join("; ")}`);
  }

  step("3. cni install on every node, as the DaemonSet's pod does: plugins into its /opt/cni/bin, its conflist into /etc/cni/net.d");
  const template = writeTemplate();
  for (const node of cluster.nodes) {
    const outcome = installOnNode(node, template);
    const changed = outcome.stdout.split("\n").filter((line) => /^(installed|replaced) /.test(line)).length;
    check(`cni install on ${node.name}: ${changed} files written`, outcome.status === 0 && changed > 0, outcome.status === 0 ? `${outcome.ms.toFixed(0)} ms` : outcome.stderr.trim());
    if (node === cluster.nodes[0]) for (const line of outcome.stdout.trim().split("\n")) console.log(dim(`    ${line}`));
  }
  const again = installOnNode(cluster.nodes[0]!, template);
  check("a second cni install on node1 changes nothing", again.status === 0 && again.stdout.includes("nothing to change"), again.stdout.trim().split("\n").pop());
  for (const node of cluster.nodes) {
    const conflist = readFileSync(join(node.dir, "etc/cni/net.d/10-cni-ts.conflist"), "utf8");
    check(`${node.name}'s conflist allocates from ${node.podCidr}`, conflist.includes(`"subnet": "${node.podCidr}"`));
  }
  if (failureCount() > 0) return;

  step("4. Two pods per node, added by each node's runtime inside the node's namespace (bridge + host-local -> portmap)");
  const addTimes: number[] = [];
  for (const pod of pods) {
    run("ip", ["netns", "add", pod.netns]);
    const outcome = kubelet("add", pod);
    addTimes.push(outcome.ms);
    if (outcome.status === 0) {
      const result = JSON.parse(outcome.stdout) as { ips?: Array<{ address: string }> };
      pod.address = result.ips?.[0]?.address.split("/")[0];
    }
    const inCidr = pod.address?.startsWith(pod.node.podCidr.replace(/0\/24$/, "")) ?? false;
    check(`add ${podName(pod).padEnd(13)} ${pod.address ?? ""}`, outcome.status === 0 && inCidr, outcome.status === 0 ? `${outcome.ms.toFixed(0)} ms, ${pod.role === "web" ? `port ${HOST_PORT} -> 80` : "no published port"}` : outcome.stderr.trim());
  }
  if (failureCount() > 0) return;
  for (const line of run("ip", ["-n", pods[0]!.netns, "route"]).stdout.trim().split("\n")) console.log(dim(`    ${podName(pods[0]!)}: ${line}`));

  step("5. Pods on different nodes ping each other (routed over the underlay, no NAT)");
  const webs = pods.filter((pod) => pod.role === "web");
  const clients = pods.filter((pod) => pod.role === "client");
  for (const client of clients) {
    for (const web of webs.filter((candidate) => candidate.node !== client.node)) {
      const ping = inNetns(client.netns, ["ping", "-c", "2", "-i", "0.2", "-W", "2", web.address!]);
      check(`ping ${podName(client)} -> ${podName(web)} (${web.address})`, ping.status === 0, ping.stdout.match(/time=[\d.]+ ms/)?.[0] ?? ping.stderr.trim());
    }
  }

  step(`6. Each node's web pod publishes port ${HOST_PORT}; other nodes and their pods reach it through portmap`);
  for (const web of webs) {
    const dnat = firewallLinesNaming(web.node, [web]).find((line) => line.includes("DNAT") && line.includes(`${web.address}:80`));
    check(`${web.node.name} forwards port ${HOST_PORT} to ${podName(web)}`, dnat !== undefined, dnat?.trim());
    startWebServer(web);
  }
  for (const [index, web] of webs.entries()) {
    const other = cluster.nodes[(index + 1) % cluster.nodes.length]!;
    const otherClient = clients.find((pod) => pod.node === other)!;
    const url = `http://${web.node.address}:${HOST_PORT}/`;
    fetchPage(`node ${other.name}`, url, other.netns, `hello from ${podName(web)}`);
    fetchPage(`pod ${podName(otherClient)}`, url, otherClient.netns, `hello from ${podName(web)}`);
    check(`${podName(web)} saw that request come from ${otherClient.address}, the pod's own address`, servedTo(web, otherClient.address!), "DNAT only: no masquerading between nodes");
  }
  stopWebServers();

  step("7. Every pod is deleted by its node's runtime");
  const delTimes: number[] = [];
  for (const pod of pods) {
    const outcome = kubelet("del", pod);
    delTimes.push(outcome.ms);
    check(`del ${podName(pod)}`, outcome.status === 0, outcome.status === 0 ? `${outcome.ms.toFixed(0)} ms` : outcome.stderr.trim());
    run("ip", ["netns", "delete", pod.netns]);
  }

  step("8. Nothing is left on any node");
  for (const node of cluster.nodes) {
    const left: string[] = [];
    const veths = run("ip", ["-n", node.netns, "-o", "link", "show", "master", "cni0"]).stdout.trim();
    if (veths) left.push(`ports on cni0: ${veths.split("\n").length}`);
    const leaseDir = join(node.dir, "var/lib/cni/networks", NETWORK);
    const leases = existsSync(leaseDir) ? readdirSync(leaseDir).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name)) : [];
    if (leases.length) left.push(`leases: ${leases.join(", ")}`);
    const rules = firewallLinesNaming(node, pods.filter((pod) => pod.node === node));
    if (rules.length) left.push(`rules: ${rules.slice(0, 2).join(" | ")}`);
    const cacheDir = join(node.dir, "var/lib/cni/results");
    const cached = existsSync(cacheDir) ? readdirSync(cacheDir) : [];
    if (cached.length) left.push(`cached results: ${cached.join(", ")}`);
    check(`${node.name}: no pod veth, lease, firewall rule or cached result left`, left.length === 0, left.join("; "));
  }
  const namespaces = run("ip", ["netns", "list"]).stdout;
  const podNamespaces = pods.filter((pod) => namespaces.includes(pod.netns));
  check("no pod namespace left", podNamespaces.length === 0, podNamespaces.map((pod) => pod.netns).join(", "));

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  step("Summary");
  console.log(`  ${count} nodes, ${pods.length} pods; pod ADD through the node's runtime (a Bun process loading lib/runtime from source, then 2 plugins): median ${median(addTimes).toFixed(0)} ms, DEL: median ${median(delTimes).toFixed(0)} ms`);
}

try {
  main();
} catch (error) {
  recordFailure();
  console.log(red(`demo aborted: ${(error as Error).stack ?? String(error)}`));
} finally {
  cleanup();
}
if (failureCount() > 0) {
  console.log(red(bold(`\n${failureCount()} check(s) failed.`)));
  process.exit(1);
}
console.log(green(bold("\nDemo succeeded: every check passed and everything was cleaned up.")));
