/**
 * CNI_NETNS that is not a network namespace, for every plugin of the suite and every command
 * that takes one. On ADD and CHECK it is the runtime's mistake: code 4 naming CNI_NETNS and the
 * path, never 999 or a stack trace. On DEL it means the container side is gone (the runtime's
 * bind mount was removed after a crash or reboot): DEL releases what the host holds and exits 0.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pluginLoaders, type PluginName } from "../../../plugins/index.ts";
import { callPlugin } from "../../helpers/cni.ts";
import { validConfigs } from "../../helpers/plugin-configs.ts";
import { uniqueName } from "../../helpers/tag.ts";

const scratch = mkdtempSync(join(tmpdir(), "bad-netns-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const regularFile = join(scratch, "file");
writeFileSync(regularFile, "");
const directory = join(scratch, "dir");
mkdirSync(directory);
const fifo = join(scratch, "fifo");
execFileSync("mkfifo", [fifo]);

const CONFIGS = validConfigs(scratch);

const plugins = Object.keys(pluginLoaders) as PluginName[];
const notNamespaces: [string, () => string][] = [
  ["a regular file", () => regularFile],
  ["a directory", () => directory],
  ["a namespace of another kind", () => "/proc/self/ns/mnt"],
  ["a FIFO (which must not hang the plugin)", () => fifo],
];

function call(plugin: PluginName, command: "ADD" | "CHECK" | "DEL", netns: string) {
  const config = { cniVersion: "1.0.0", name: "badnetns", ...CONFIGS[plugin] };
  return callPlugin(plugin, { command, config, containerId: uniqueName("shc"), netns, ifname: "eth0" });
}

describe("CNI_NETNS that is not a network namespace", () => {
  describe.each(plugins)("%s", (plugin) => {
    it.each(notNamespaces)("answers ADD and CHECK with code 4 naming CNI_NETNS and the path when it is %s", (_what, path) => {
      for (const command of ["ADD", "CHECK"] as const) {
        const outcome = call(plugin, command, path());
        expect(outcome.status, `${command}: ${outcome.stdout}`).toBe(1);
        expect(outcome.json).toMatchObject({ code: 4, msg: `CNI_NETNS: ${path()} is not a network namespace` });
        expect(outcome.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
      }
    });

    it.each(notNamespaces)("succeeds on DEL when it is %s: the container side is gone", (_what, path) => {
      const outcome = call(plugin, "DEL", path());
      expect(outcome.status, outcome.stdout).toBe(0);
      expect(outcome.stdout).toBe("");
    });
  });
});
