/**
 * sbr takes the reference's lock (flock on CNI_NETNS) before choosing a table, so two runs in
 * one namespace, ours or the reference's, never pick the same one: an ADD started while another
 * process holds the lock finishes only after that process let go.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN } from "../../helpers/paths.ts";

let netns: TestNetns;
beforeAll(() => {
  netns = createNetns("sbk");
  netns.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
  netns.exec(["ip", "addr", "add", "10.78.1.5/24", "dev", "eth0"]);
  netns.exec(["ip", "link", "set", "eth0", "up"]);
});
afterAll(() => netns.remove());

function exited(child: ReturnType<typeof spawn>, name: string, order: string[]): Promise<number> {
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      order.push(name);
      resolve(code ?? -1);
    }),
  );
}

it("waits for another holder of the namespace lock before it adds anything", async () => {
  const order: string[] = [];
  const holder = spawn("flock", [netns.path, "-c", "echo locked; sleep 1"], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => holder.stdout!.once("data", resolve));
  const holderDone = exited(holder, "holder", order);
  const config = { cniVersion: "1.0.0", name: "sb-lock", type: "sbr", prevResult: { cniVersion: "1.0.0", ips: [{ address: "10.78.1.5/24" }] } };
  const sbr = spawn(join(OUR_BIN, "sbr"), [], {
    env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "sb-lock", CNI_NETNS: netns.path, CNI_IFNAME: "eth0", CNI_PATH: OUR_BIN },
    stdio: ["pipe", "ignore", "inherit"],
  });
  sbr.stdin!.end(JSON.stringify(config));
  expect(await Promise.all([exited(sbr, "sbr", order), holderDone])).toEqual([0, 0]);
  expect(order).toEqual(["holder", "sbr"]);
  expect(netns.exec(["ip", "rule", "show"])).toContain("from 10.78.1.5 lookup 100");
});
