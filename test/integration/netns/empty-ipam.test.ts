/**
 * `"ipam": {}` is how the CNI documentation's layer-2 bridge example writes "no IPAM", and the
 * reference takes it so. A DEL must never fail on a configuration the reference accepted, so
 * every plugin that is not itself an IPAM plugin accepts it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { pluginLoaders, type PluginName } from "../../../plugins/index.ts";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, deleteLinkIfExists, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { IPAM_PLUGINS, validConfigs } from "../../helpers/plugin-configs.ts";
import { uniqueName } from "../../helpers/tag.ts";

const scratch = mkdtempSync(join(tmpdir(), "empty-ipam-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const configs = validConfigs(scratch);
const plugins = (Object.keys(pluginLoaders) as PluginName[]).filter((plugin) => !IPAM_PLUGINS.includes(plugin));

describe('"ipam": {}', () => {
  const namespaces: TestNetns[] = [];
  afterEach(() => {
    for (const netns of namespaces.splice(0)) netns.remove();
  });

  it.each(plugins)("is no IPAM to %s: DEL accepts it", (plugin) => {
    const netns = createNetns("she");
    namespaces.push(netns);
    const config = { cniVersion: "1.0.0", name: "emptyipam", ...configs[plugin], ipam: {} };
    const outcome = callPlugin(plugin, { command: "DEL", config, containerId: uniqueName("she"), netns: netns.path, ifname: "eth0" });
    expect(outcome.status, outcome.stdout).toBe(0);
  });

  it("gives bridge a layer-2 attachment: ADD brings the interface up without addresses, CHECK and DEL pass", () => {
    const netns = createNetns("she");
    namespaces.push(netns);
    const bridge = uniqueName("sheb");
    try {
      const config = { cniVersion: "1.0.0", name: "layer2", type: "bridge", bridge, ipam: {} };
      const call = { config, containerId: uniqueName("she"), netns: netns.path, ifname: "eth0" };
      const result = mustCall("bridge", { ...call, command: "ADD" }).json;
      expect(result.ips).toBeUndefined();
      expect(ipJson<{ operstate: string }[]>(["link", "show", "eth0"], netns.name)[0]!.operstate).toBe("UP");
      mustCall("bridge", { ...call, command: "CHECK", config: { ...config, prevResult: result } });
      mustCall("bridge", { ...call, command: "DEL", config: { ...config, prevResult: result } });
      expect(ipJson<unknown[]>(["link", "show"], netns.name)).toHaveLength(1); // lo only
    } finally {
      deleteLinkIfExists(bridge);
    }
  });
});
