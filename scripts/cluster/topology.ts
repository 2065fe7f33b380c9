/**
 * The cluster's machines, on one host: every node is a network namespace with one interface,
 * eth0, on an underlay bridge that lives in a namespace of its own (the "LAN"); each node has
 * a pod CIDR out of one cluster CIDR and a route to every other node's pod CIDR via that node's
 * underlay address (host-gw, as kubenet and flannel's host-gw backend route). Nothing of it is
 * in the host's own namespace.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { must, run } from "./report.ts";

export interface ClusterNode {
  name: string;
  /** The node's network namespace: the plugins' host. */
  netns: string;
  /** Its address on the underlay. */
  address: string;
  podCidr: string;
  /** Its file system's CNI parts: opt/cni/bin, etc/cni/net.d, var/lib/cni. */
  dir: string;
}

export interface Cluster {
  /** The namespace that holds the underlay bridge. */
  lan: string;
  underlay: string;
  clusterCidr: string;
  nodes: ClusterNode[];
}

/** Names and addresses for `count` nodes: random /24 underlay and /16 cluster CIDR in 10.x, names tagged per run. */
export function planCluster(count: number, tag: string, workDir: string): Cluster {
  const [a, b, c] = randomBytes(3);
  const underlayPrefix = `10.${150 + (a! % 50)}.${b}`;
  const clusterPrefix = `10.${200 + (c! % 50)}`;
  const nodes = Array.from({ length: count }, (_, index) => {
    const name = `node${index + 1}`;
    return { name, netns: `nd${tag}-${name}`, address: `${underlayPrefix}.${11 + index}`, podCidr: `${clusterPrefix}.${index + 1}.0/24`, dir: join(workDir, name) };
  });
  return { lan: `nd${tag}-lan`, underlay: `${underlayPrefix}.0/24`, clusterCidr: `${clusterPrefix}.0.0/16`, nodes };
}

/** Makes the LAN, plugs every node into it and gives it its address; forwarding on, as on any Kubernetes node. */
export function buildNodes(cluster: Cluster): void {
  must("ip", ["netns", "add", cluster.lan]);
  must("ip", ["-n", cluster.lan, "link", "add", "underlay", "type", "bridge"]);
  must("ip", ["-n", cluster.lan, "link", "set", "underlay", "up"]);
  for (const node of cluster.nodes) {
    must("ip", ["netns", "add", node.netns]);
    // The veth pair is made in the LAN with its other end directly in the node: never on the host.
    must("ip", ["-n", cluster.lan, "link", "add", node.name, "type", "veth", "peer", "name", "eth0", "netns", node.netns]);
    must("ip", ["-n", cluster.lan, "link", "set", node.name, "master", "underlay", "up"]);
    must("ip", ["-n", node.netns, "addr", "add", `${node.address}/24`, "dev", "eth0"]);
    must("ip", ["-n", node.netns, "link", "set", "eth0", "up"]);
    must("ip", ["-n", node.netns, "link", "set", "lo", "up"]);
    must("ip", ["netns", "exec", node.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  }
}

/** On every node, a route to each other node's pod CIDR via that node's underlay address. */
export function routePodCidrs(cluster: Cluster): void {
  for (const node of cluster.nodes) {
    for (const other of cluster.nodes) {
      if (other !== node) must("ip", ["-n", node.netns, "route", "add", other.podCidr, "via", other.address, "dev", "eth0"]);
    }
  }
}

/** Removes the nodes and the LAN (and with them every link and rule made inside them). */
export function removeNodes(cluster: Cluster): void {
  for (const node of cluster.nodes) run("ip", ["netns", "delete", node.netns]);
  run("ip", ["netns", "delete", cluster.lan]);
}
