/**
 * A tap attached to a bridge carries frames both ways: a namespace pings an address that only a
 * process holding the tap's descriptor answers (ARP and ICMP echo, responder.ts under Bun),
 * through a veth into the container's bridge, the bridge to the tap, the tap to the process,
 * and back. The reference's tap is not in Debian's 1.1.1, so there is no differential test.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mustCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";

const namespaces: TestNetns[] = [];
let responder: ChildProcess | undefined;
afterEach(() => {
  responder?.kill("SIGKILL");
  responder = undefined;
  for (const netns of namespaces.splice(0)) netns.remove();
});

/** Starts the responder in `netns` and resolves with its output so far once it says "ready". */
function startResponder(netns: TestNetns, tap: string, ip: string, mac: string): Promise<() => string> {
  const bun = join(process.cwd(), "node_modules/.bin/bun");
  const child = spawn("ip", ["netns", "exec", netns.name, bun, join(__dirname, "responder.ts"), tap, ip, mac], { stdio: ["ignore", "pipe", "pipe"] });
  responder = child;
  let output = "";
  let errors = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`responder not ready: ${errors}`)), 20_000);
    child.on("exit", (code) => reject(new Error(`responder exited (${code}): ${errors}`)));
    child.stdout!.on("data", () => {
      if (output.includes("ready")) {
        clearTimeout(timer);
        resolve(() => output);
      }
    });
  });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("a tap attached to a bridge", () => {
  it("carries a ping from a namespace on the bridge to the process holding the tap and its answer back", async () => {
    const container = createNetns("tpc");
    const peer = createNetns("tpp");
    namespaces.push(container, peer);
    const { v4Prefix } = randomSubnets();
    const bridge = uniqueName("tpbr");
    const [inside, outside] = [uniqueName("tpv"), uniqueName("tpv")];
    container.exec(["ip", "link", "add", bridge, "type", "bridge"]);
    container.exec(["ip", "link", "set", bridge, "up"]);
    container.exec(["ip", "link", "add", inside, "type", "veth", "peer", "name", outside, "netns", peer.name]);
    container.exec(["ip", "link", "set", inside, "master", bridge, "up"]);
    peer.exec(["ip", "addr", "add", `${v4Prefix}.1/24`, "dev", outside]);
    peer.exec(["ip", "link", "set", outside, "up"]);

    const config = { cniVersion: "1.0.0", name: "tpnet", type: "tap", bridge };
    const call = { config, containerId: uniqueName("tpid"), netns: container.path, ifname: "tap0" };
    const add = mustCall("tap", { ...call, command: "ADD" }).json;
    expect(add.interfaces).toEqual([{ name: "tap0", mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), sandbox: container.path }]);
    expect(execFileSync("ip", ["-n", container.name, "-j", "link", "show", "tap0"], { encoding: "utf8" })).toContain(`"master":"${bridge}"`);

    const output = await startResponder(container, "tap0", `${v4Prefix}.9`, "02:54:50:00:00:09");
    const ping = peer.exec(["ping", "-c", "2", "-W", "3", `${v4Prefix}.9`]);
    expect(ping).toContain("2 received");
    // The ping ran synchronously: let the responder's output arrive.
    await until(() => output().includes("echo"), 5000);
    expect(output()).toContain(`arp ${v4Prefix}.1`);
    expect(output()).toContain(`echo ${v4Prefix}.1`);

    responder!.kill("SIGKILL");
    mustCall("tap", { ...call, command: "DEL" });
    expect(container.exec(["ip", "-j", "link", "show"])).not.toContain('"tap0"');
  });
});
