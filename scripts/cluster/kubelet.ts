/**
 * A node's container runtime, as much of it as a pod's network takes: started inside the node's
 * network namespace (ip netns exec), so that the node's namespace is the plugins' host, it loads
 * the first network configuration of the node's configuration directory and runs its plugins
 * from the node's plugin directory, with the node's own result cache, as containerd's CRI plugin
 * does when the kubelet starts or removes a pod sandbox.
 *
 * Usage: bun scripts/cluster/kubelet.ts add|del <node dir> <pod ID> <pod netns path> [<host port>:<container port>]
 * (the node dir holds opt/cni/bin, etc/cni/net.d and var/lib/cni). ADD prints the result.
 */
import { join } from "node:path";
import { CniRuntime, loadNetworkDirectory } from "../../lib/runtime/index.ts";

const USAGE = "usage: kubelet.ts add|del <node dir> <pod ID> <pod netns path> [<host port>:<container port>]";

async function main(args: string[]): Promise<number> {
  const [command, nodeDir, podId, netns, port] = args;
  if ((command !== "add" && command !== "del") || !nodeDir || !podId || !netns) {
    console.error(USAGE);
    return 2;
  }
  const confDir = join(nodeDir, "etc/cni/net.d");
  const [list] = loadNetworkDirectory(confDir).networks;
  if (!list) {
    console.error(`no usable network configuration in ${confDir}: the node is not ready`);
    return 1;
  }
  const runtime = new CniRuntime({ path: [join(nodeDir, "opt/cni/bin")], cacheDir: join(nodeDir, "var/lib/cni") });
  const [hostPort, containerPort] = (port ?? "").split(":").map(Number);
  const portMappings = hostPort && containerPort ? [{ hostPort, containerPort, protocol: "tcp" }] : [];
  const pod = { containerId: podId, netns, ifName: "eth0", capabilityArgs: { portMappings } };
  try {
    if (command === "add") console.log(JSON.stringify((await runtime.addNetworkList(list, pod)).wire));
    else await runtime.delNetworkList(list, pod);
    return 0;
  } catch (error) {
    // A plugin's error object (PluginError) or a plugin that could not run: the message says which.
    console.error(`${command} ${podId}: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
