import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createNetns } from "../../helpers/netns.ts";
import bandwidth from "../../../plugins/bandwidth/index.ts";
import { ifbName } from "../../../plugins/bandwidth/shaping.ts";
import { type PluginIO, runPlugin } from "../../../lib/skel/dispatch.ts";

// A namespace of the test's own: these requests fail before any work inside it.
const container = createNetns("sh");
const netnsPath = container.path;
afterAll(() => container.remove());

async function run(command: string, config: object) {
  const out: string[] = [];
  const io: PluginIO = {
    env: { CNI_COMMAND: command, CNI_CONTAINERID: "c1", CNI_NETNS: netnsPath, CNI_IFNAME: "eth0", CNI_PATH: "/x" },
    readStdin: () => Buffer.from(JSON.stringify(config)),
    writeStdout: (text) => out.push(text),
    writeStderr: () => undefined,
  };
  const status = await runPlugin(bandwidth, io);
  return { status, json: JSON.parse(out.join("")) };
}

const config = { cniVersion: "1.0.0", name: "bwnet", type: "bandwidth", ingressRate: 1000, ingressBurst: 1000 };

describe("the bandwidth plugin", () => {
  it("refuses ADD and CHECK without prevResult, with code 7 naming it", async () => {
    for (const command of ["ADD", "CHECK"]) {
      const { status, json } = await run(command, config);
      expect(status).toBe(1);
      expect(json.code).toBe(7);
      expect(json.msg).toMatch(/^invalid config: prevResult=\(missing\): bandwidth is a chained plugin/);
    }
  });

  it("checks the configuration before prevResult, as the reference does", async () => {
    const { json } = await run("ADD", { ...config, ingressBurst: 0 });
    expect(json.msg).toMatch(/^invalid config: ingressBurst=0:/);
  });

  it("speaks CNI 0.3.0 and later, like the reference", async () => {
    const { json } = await run("ADD", { ...config, cniVersion: "0.2.0" });
    expect(json.code).toBe(1);
  });

  it("names the ifb device as the reference does: bwp + SHA-512 of network name and container ID", () => {
    // Seen from the reference plugin for network "bwnet" and container "abc123".
    expect(ifbName("bwnet", "abc123")).toBe("bwp13229d9cfd25");
  });
});
