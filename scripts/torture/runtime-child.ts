/**
 * The runtime the kill phase kills: lib/runtime's CniRuntime (libcni's behaviour: ADD through
 * the list, then the result cache; DEL in reverse with the cached result, or without one) in a
 * process of its own, started inside the world's host namespace, so its plugins start there.
 *
 *   bun runtime-child.ts add|del <conflist> <netns> <containerId> <ifname> <cacheDir> <pluginDir> <capabilityArgs JSON>
 *
 * Prints the result of ADD; exits 0 on success, 1 on failure (the error on stderr).
 */
import { CniRuntime, networkConfigListFromFile } from "../../lib/runtime/index.ts";

async function main(argv: string[]): Promise<number> {
  const [command, listFile, netns, containerId, ifName, cacheDir, pluginDir, capabilities] = argv;
  if (!listFile || !netns || !containerId || !ifName || !cacheDir || !pluginDir || capabilities === undefined) {
    process.stderr.write("usage: runtime-child.ts add|del <conflist> <netns> <containerId> <ifname> <cacheDir> <pluginDir> <capabilityArgs JSON>\n");
    return 2;
  }
  const list = networkConfigListFromFile(listFile);
  const runtime = new CniRuntime({ path: [pluginDir], cacheDir, env: { PATH: process.env.PATH }, stderr: null });
  const rt = { containerId, netns, ifName, capabilityArgs: JSON.parse(capabilities) as Record<string, unknown> };
  try {
    if (command === "add") process.stdout.write(`${JSON.stringify((await runtime.addNetworkList(list, rt)).wire)}\n`);
    else await runtime.delNetworkList(list, rt);
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
