import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createNetns } from "../../helpers/netns.ts";
import { inProcessExecutor, isRunningExecutable, runInProcess, type PluginCall, type PluginExecutor } from "../../../lib/invoke/index.ts";
import { CniError, ErrorCode } from "../../../lib/core/index.ts";
import { definePlugin, type AttachmentRequest, type NetConf } from "../../../lib/skel/index.ts";
import type { Result } from "../../../lib/types/index.ts";

const scratch = mkdtempSync(join(tmpdir(), "invoke-unit-"));
const container = createNetns("sh");
const netnsPath = container.path;
afterAll(() => {
  container.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const result: Result = { ips: [{ address: "10.9.8.7/24", gateway: "10.9.8.1" }] };

/** A delegate that records what it saw and answers as `behaviour` says. */
function fakeDelegate(behaviour: "succeed" | "fail" = "succeed") {
  const seen: { requests: AttachmentRequest<NetConf>[]; env: (string | undefined)[] } = { requests: [], env: [] };
  const answer = (request: AttachmentRequest<NetConf>, value: unknown) => {
    seen.requests.push(request);
    seen.env.push(process.env.CNI_COMMAND);
    if (behaviour === "fail") return Promise.reject(new CniError(ErrorCode.AddressesExhausted, "no free address in range set 0"));
    return Promise.resolve(value);
  };
  const definition = definePlugin<NetConf>({
    name: "fake-ipam",
    about: "fake IPAM for tests",
    parseConfig: (raw) => raw as NetConf,
    add: (request) => answer(request, result) as Promise<Result>,
    del: (request) => answer(request, undefined) as Promise<void>,
    check: (request) => answer(request, undefined) as Promise<void>,
  });
  return { definition, seen };
}

const stdin = Buffer.from(JSON.stringify({ cniVersion: "1.0.0", name: "net1", type: "bridge", ipam: { type: "fake-ipam" } }));

function delegateEnv(command: string): Record<string, string> {
  return { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: "c1", CNI_NETNS: netnsPath, CNI_IFNAME: "eth0", CNI_ARGS: "", CNI_PATH: "/opt/cni/bin" };
}

describe("in-process delegation", () => {
  it("prints the delegate's result on the captured stdout and exits 0", async () => {
    const { definition } = fakeDelegate();
    const outcome = await runInProcess(definition, delegateEnv("ADD"), stdin);
    expect(outcome.status).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual({ cniVersion: "1.0.0", ips: [{ address: "10.9.8.7/24", gateway: "10.9.8.1" }], dns: {} });
  });

  it("gives the delegate the parameters and stdin its own process would have had", async () => {
    const { definition, seen } = fakeDelegate();
    await runInProcess(definition, { ...delegateEnv("DEL"), CNI_ARGS: "IgnoreUnknown=1" }, stdin);
    const request = seen.requests[0]!;
    expect(request.command).toBe("DEL");
    expect(request).toMatchObject({ containerId: "c1", netns: netnsPath, ifname: "eth0", path: ["/opt/cni/bin"] });
    expect(request.args.text).toBe("IgnoreUnknown=1");
    expect(request.stdin.equals(stdin)).toBe(true);
  });

  it("sets the delegate's environment on process.env during the call and restores it after", async () => {
    const { definition, seen } = fakeDelegate();
    const before = { ...process.env };
    await runInProcess(definition, { ...delegateEnv("CHECK"), CNI_TEST_ONLY_DURING_CALL: "1" }, stdin);
    expect(seen.env).toEqual(["CHECK"]);
    expect(process.env).toEqual(before);
  });

  it("turns a failing delegate into exit status 1 with its error object, as a process would", async () => {
    const { definition } = fakeDelegate("fail");
    const outcome = await runInProcess(definition, delegateEnv("ADD"), stdin);
    expect(outcome.status).toBe(1);
    expect(JSON.parse(outcome.stdout)).toEqual({ cniVersion: "1.0.0", code: ErrorCode.AddressesExhausted, msg: "no free address in range set 0" });
  });

  it("reports an invalid delegate environment as the delegate's own process would (code 4)", async () => {
    const { definition, seen } = fakeDelegate();
    const outcome = await runInProcess(definition, { ...delegateEnv("ADD"), CNI_IFNAME: "" }, stdin);
    expect(outcome.status).toBe(1);
    expect(JSON.parse(outcome.stdout)).toMatchObject({ code: ErrorCode.InvalidEnvironment });
    expect(seen.requests).toEqual([]);
  });

  it("knows the running executable by its inode: node itself under Node, so delegates run as processes there", () => {
    expect(isRunningExecutable(process.execPath)).toBe(true);
    expect(isRunningExecutable(join(process.cwd(), "host-local"))).toBe(false);
  });

  it("hands a plugin that is not the running executable to the fallback executor", async () => {
    const pluginDir = join(scratch, "bin");
    mkdirSync(pluginDir, { recursive: true });
    writeFileSync(join(pluginDir, "fake-ipam"), "");
    const loaded: string[] = [];
    const fallbackCalls: PluginCall[] = [];
    const fallback: PluginExecutor = { run: async (call) => (fallbackCalls.push(call), "from the fallback") };
    const executor = inProcessExecutor(async (type) => (loaded.push(type), fakeDelegate().definition), fallback);
    const call: PluginCall = {
      invocation: { plugin: "fake-ipam", command: "ADD", network: "" },
      parameters: { containerId: "c1", netns: netnsPath, ifName: "eth0", args: "", path: [pluginDir] },
      stdin,
      baseEnv: {},
      timeoutMs: 1000,
      stderr: null,
      ownProcessGroup: false,
    };
    expect(await executor.run(call)).toBe("from the fallback");
    expect(fallbackCalls).toEqual([call]);
    expect(loaded).toEqual([]);
  });
});
