import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ErrorCode, parseWithSchema } from "../../../lib/core/index.ts";
import { definePlugin, netConfSchema, runPlugin, type AttachmentRequest, type NetworkRequest, type PluginIO } from "../../../lib/skel/index.ts";
import { createNetns } from "../../helpers/netns.ts";

// The dispatcher checks that CNI_NETNS is a network namespace other than its own; nothing here
// works inside it.
const scratch = mkdtempSync(join(tmpdir(), "skel-"));
const regularFile = join(scratch, "netns");
writeFileSync(regularFile, "");
const container = createNetns("sh");
const netnsPath = container.path;
afterAll(() => {
  container.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const schema = netConfSchema.extend({ mtu: z.number().int().positive().optional() });
const seen: { requests: (AttachmentRequest<unknown> | NetworkRequest<unknown>)[] } = { requests: [] };

const plugin = definePlugin({
  name: "fake",
  about: "fake plugin for tests",
  parseConfig: (raw) => parseWithSchema(schema, raw),
  async add(request) {
    seen.requests.push(request);
    return { interfaces: [{ name: request.ifname, sandbox: request.netns }], ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 0 }] };
  },
  async del(request) {
    seen.requests.push(request);
  },
  async check(request) {
    seen.requests.push(request);
  },
  async gc(request) {
    seen.requests.push(request);
  },
});

function run(env: Record<string, string>, stdin: string | object) {
  const out: string[] = [];
  const err: string[] = [];
  const io: PluginIO = {
    env,
    readStdin: () => Buffer.from(typeof stdin === "string" ? stdin : JSON.stringify(stdin)),
    writeStdout: (text) => out.push(text),
    writeStderr: (text) => err.push(text),
  };
  return runPlugin(plugin, io).then((status) => ({
    status,
    stdout: out.join(""),
    stderr: err.join(""),
    json: out.length ? JSON.parse(out.join("")) : undefined,
  }));
}

const addEnv = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: netnsPath, CNI_IFNAME: "eth0", CNI_PATH: "/x" };
const conf = (extra: object = {}) => ({ cniVersion: "1.0.0", name: "net1", type: "fake", ...extra });

describe("plugin dispatch", () => {
  it("prints the ADD result in the configuration's version", async () => {
    const outcome = await run(addEnv, conf());
    expect(outcome.status).toBe(0);
    expect(outcome.json).toEqual({
      cniVersion: "1.0.0",
      interfaces: [{ name: "eth0", sandbox: netnsPath }],
      ips: [{ interface: 0, address: "10.1.2.3/24", gateway: "10.1.2.1" }],
      dns: {},
    });
  });

  it("prints 0.2.0 results in the ip4 shape", async () => {
    const outcome = await run(addEnv, conf({ cniVersion: "0.2.0" }));
    expect(outcome.json).toEqual({ cniVersion: "0.2.0", ip4: { ip: "10.1.2.3/24", gateway: "10.1.2.1" }, dns: {} });
  });

  it("answers VERSION with every supported version", async () => {
    const outcome = await run({ CNI_COMMAND: "VERSION" }, "");
    expect(outcome.json).toEqual({
      cniVersion: "1.1.0",
      supportedVersions: ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"],
    });
  });

  it("answers code 1 for a version it does not speak", async () => {
    const outcome = await run(addEnv, conf({ cniVersion: "9.9.9" }));
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: ErrorCode.IncompatibleVersion });
    expect(outcome.json.msg).toContain("9.9.9");
  });

  it("answers code 1 for CHECK below 0.4.0 and GC below 1.1.0", async () => {
    const check = await run({ ...addEnv, CNI_COMMAND: "CHECK" }, conf({ cniVersion: "0.3.1" }));
    expect(check.json).toMatchObject({ code: 1, cniVersion: "0.3.1" });
    const gc = await run({ CNI_COMMAND: "GC", CNI_PATH: "/x" }, conf({ cniVersion: "1.0.0" }));
    expect(gc.json).toMatchObject({ code: 1 });
  });

  it("answers code 6 for stdin that is not JSON", async () => {
    const outcome = await run(addEnv, "{not json");
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: ErrorCode.DecodingFailure });
  });

  it("answers code 5 when stdin cannot be read", async () => {
    const io: PluginIO = {
      env: addEnv,
      readStdin: () => {
        throw new Error("EIO: i/o error");
      },
      writeStdout: (text) => out.push(text),
      writeStderr: () => undefined,
    };
    const out: string[] = [];
    expect(await runPlugin(plugin, io)).toBe(1);
    expect(JSON.parse(out.join(""))).toMatchObject({ code: ErrorCode.IoFailure });
  });

  it("answers code 7 naming the field and the value", async () => {
    const outcome = await run(addEnv, conf({ mtu: -5 }));
    expect(outcome.json.code).toBe(ErrorCode.InvalidConfig);
    expect(outcome.json.msg).toContain("mtu=-5");
    const noName = await run(addEnv, { cniVersion: "1.0.0", type: "fake" });
    expect(noName.json.code).toBe(ErrorCode.InvalidConfig);
    expect(noName.json.msg).toContain("name");
  });

  it("answers code 4 for a missing environment variable and names it", async () => {
    const { CNI_IFNAME: _, ...env } = addEnv;
    const outcome = await run(env, conf());
    expect(outcome.json).toMatchObject({ code: ErrorCode.InvalidEnvironment });
    expect(outcome.json.msg).toContain("CNI_IFNAME");
  });

  it("answers code 4 when CNI_NETNS is the plugin's own namespace", async () => {
    const outcome = await run({ ...addEnv, CNI_NETNS: "/proc/self/ns/net" }, conf());
    expect(outcome.json).toMatchObject({ code: ErrorCode.InvalidEnvironment });
    expect(outcome.json.msg).toContain("own network namespace");
  });

  it("answers code 4 when CNI_NETNS does not exist on ADD, and tolerates it on DEL", async () => {
    const add = await run({ ...addEnv, CNI_NETNS: "/run/netns/does-not-exist" }, conf());
    expect(add.json).toMatchObject({ code: ErrorCode.InvalidEnvironment });
    const del = await run({ ...addEnv, CNI_COMMAND: "DEL", CNI_NETNS: "/run/netns/does-not-exist" }, conf());
    expect(del.status).toBe(0);
    expect(del.stdout).toBe("");
  });

  it.each([
    ["a regular file", () => regularFile],
    ["a directory", () => scratch],
    ["a namespace of another kind", () => "/proc/self/ns/mnt"],
  ])("answers code 4 naming CNI_NETNS and the path when it is %s, on ADD and CHECK", async (_what, path) => {
    for (const command of ["ADD", "CHECK"]) {
      const outcome = await run({ ...addEnv, CNI_COMMAND: command, CNI_NETNS: path() }, conf({ prevResult: {} }));
      expect(outcome.json).toMatchObject({ code: ErrorCode.InvalidEnvironment, msg: `CNI_NETNS: ${path()} is not a network namespace` });
    }
  });

  it("hands a DEL whose CNI_NETNS is no longer a network namespace to the plugin, which releases what the host holds", async () => {
    seen.requests.length = 0;
    const del = await run({ ...addEnv, CNI_COMMAND: "DEL", CNI_NETNS: regularFile }, conf());
    expect(del.status).toBe(0);
    expect(seen.requests).toMatchObject([{ command: "DEL", netns: regularFile }]);
  });

  it("decodes a prevResult of any version", async () => {
    seen.requests.length = 0;
    await run({ ...addEnv, CNI_COMMAND: "CHECK" }, conf({ cniVersion: "0.4.0", prevResult: { cniVersion: "0.2.0", ip4: { ip: "10.9.0.2/16" } } }));
    expect((seen.requests[0] as AttachmentRequest<unknown>).prevResult).toEqual({ ips: [{ address: "10.9.0.2/16" }], routes: [] });
  });

  it("passes cni.dev/valid-attachments to GC", async () => {
    seen.requests.length = 0;
    const attachments = [{ containerID: "c1", ifname: "eth0" }];
    const outcome = await run({ CNI_COMMAND: "GC", CNI_PATH: "/x" }, conf({ cniVersion: "1.1.0", "cni.dev/valid-attachments": attachments }));
    expect(outcome.status).toBe(0);
    expect((seen.requests[0] as NetworkRequest<unknown>).validAttachments).toEqual(attachments);
  });

  it("reads libcni's null as no valid attachments and accepts the older cni.dev/attachments key", async () => {
    for (const extra of [{ "cni.dev/valid-attachments": null }, { "cni.dev/attachments": [{ containerID: "c9", ifname: "eth0" }] }]) {
      seen.requests.length = 0;
      const outcome = await run({ CNI_COMMAND: "GC", CNI_PATH: "/x" }, conf({ cniVersion: "1.1.0", ...extra }));
      expect(outcome.stdout).toBe("");
      expect((seen.requests[0] as NetworkRequest<unknown>).validAttachments).toEqual(Object.values(extra)[0] ?? []);
    }
  });

  it("refuses GC without the list of valid attachments, which would make everything look stale", async () => {
    const outcome = await run({ CNI_COMMAND: "GC", CNI_PATH: "/x" }, conf({ cniVersion: "1.1.0" }));
    expect(outcome.json).toMatchObject({ code: 7 });
    expect(outcome.json.msg).toContain("cni.dev/valid-attachments");
  });

  it("treats an empty cniVersion as 0.1.0, as libcni does", async () => {
    const outcome = await run(addEnv, conf({ cniVersion: "" }));
    expect(outcome.json).toEqual({ cniVersion: "0.1.0", ip4: { ip: "10.1.2.3/24", gateway: "10.1.2.1" }, dns: {} });
  });

  it("undoes an ADD whose result the configuration's version cannot express", async () => {
    const deleted: string[] = [];
    const layer2 = definePlugin({
      ...plugin,
      add: async (request) => ({ interfaces: [{ name: request.ifname }] }),
      del: async (request) => void deleted.push(request.command),
    });
    const out: string[] = [];
    const status = await runPlugin(layer2, {
      env: addEnv,
      readStdin: () => Buffer.from(JSON.stringify(conf({ cniVersion: "0.2.0" }))),
      writeStdout: (t) => out.push(t),
      writeStderr: () => undefined,
    });
    expect(status).toBe(1);
    expect(JSON.parse(out.join(""))).toMatchObject({ code: ErrorCode.IncompatibleVersion });
    expect(deleted).toEqual(["DEL"]);
  });

  it("reports a thrown non-CNI error as code 999, with no stack trace unless CNI_TS_DEBUG=1", async () => {
    const failing = definePlugin({ ...plugin, add: async () => { throw new TypeError("boom"); } });
    const runFailing = async (env: Record<string, string>) => {
      const out: string[] = [];
      const err: string[] = [];
      const status = await runPlugin(failing, {
        env,
        readStdin: () => Buffer.from(JSON.stringify(conf())),
        writeStdout: (t) => out.push(t),
        writeStderr: (t) => err.push(t),
      });
      return { status, json: JSON.parse(out.join("")), stderr: err.join("") };
    };
    const quiet = await runFailing(addEnv);
    expect(quiet.status).toBe(1);
    expect(quiet.json).toMatchObject({ code: 999, msg: "boom" });
    expect(quiet.stderr).toBe("");
    const debug = await runFailing({ ...addEnv, CNI_TS_DEBUG: "1" });
    expect(debug.json).toMatchObject({ code: 999, msg: "boom" });
    expect(debug.stderr).toContain("TypeError: boom");
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
