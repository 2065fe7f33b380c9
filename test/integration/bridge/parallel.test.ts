import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { RUN_TAG } from "../../helpers/tag.ts";

const CONTAINERS = 32;

/** Runs a plugin without blocking the test process, so many run at once. */
function runAsync(command: string, containerId: string, netns: TestNetns, config: object): Promise<{ status: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(OUR_BIN, "bridge"), [], {
      env: { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns.path, CNI_IFNAME: "eth0", CNI_PATH: OUR_BIN },
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status: status ?? -1, stdout }));
    child.stdin.end(JSON.stringify(config));
  });
}

describe("parallel ADDs on one bridge network", () => {
  let network: TestNetwork;
  const namespaces: TestNetns[] = [];

  beforeAll(() => {
    network = createTestNetwork();
    for (let i = 0; i < CONTAINERS; i++) namespaces.push(createNetns("par"));
  });
  afterAll(() => {
    for (const netns of namespaces) netns.remove();
    network.cleanup();
  });

  it(`never hands out an address twice with ${CONTAINERS} ADDs at once`, async () => {
    const config = network.bridgeConfig();
    const outcomes = await Promise.all(namespaces.map((netns, i) => runAsync("ADD", `par-${RUN_TAG}-${i}`, netns, config)));
    for (const outcome of outcomes) expect(outcome.status, outcome.stdout).toBe(0);
    const addresses = outcomes.flatMap((outcome) => (JSON.parse(outcome.stdout).ips as { address: string }[]).map((ip) => ip.address));
    expect(addresses).toHaveLength(CONTAINERS * 2);
    expect(new Set(addresses).size).toBe(addresses.length);

    // Every container really holds its address: the neighbour across the bridge answers.
    const first = namespaces[0]!;
    const lastAddress = addresses[addresses.length - 2]!.split("/")[0]!;
    first.exec(["ping", "-c", "1", "-W", "2", lastAddress]);

    const deletions = await Promise.all(namespaces.map((netns, i) => runAsync("DEL", `par-${RUN_TAG}-${i}`, netns, config)));
    for (const outcome of deletions) expect(outcome.status, outcome.stdout).toBe(0);
  });
});
