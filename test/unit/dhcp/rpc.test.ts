import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { callGoRpc, RpcServerError, RpcTimeout, RpcUnavailable, serveGoRpcConnection } from "../../../lib/dhcp/rpc/go-rpc.ts";
import { cmdArgsFromGob, cmdArgsToGob, cmdArgsType, resultFromGob, resultToGob, resultType } from "../../../lib/dhcp/rpc/types.ts";

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function listen(onConnection: Parameters<typeof createServer>[1]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "dhcp-rpc-"));
  dirs.push(dir);
  const path = join(dir, "s.sock");
  const server = createServer(onConnection!);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return path;
}

const args = { containerId: "c1", netns: "/run/netns/x", ifname: "eth0", args: "", path: "/opt/cni/bin", stdin: new TextEncoder().encode("{}") };

describe("net/rpc between our plugin and our daemon", () => {
  it("carries a call and its result, a server error, and an unknown method's error", async () => {
    const path = await listen((socket) =>
      serveGoRpcConnection(socket, {
        idleMs: 60_000,
        log: () => undefined,
        methods: {
          "DHCP.Allocate": async (arg) => {
            expect(cmdArgsFromGob(arg)).toEqual(args);
            return { type: resultType, value: resultToGob({ ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1" }] }) };
          },
          "DHCP.Release": async () => {
            throw new Error("no lease here [code 11]");
          },
        },
      }),
    );
    const reply = await callGoRpc(path, "DHCP.Allocate", cmdArgsType, cmdArgsToGob(args), 5000);
    expect(resultFromGob(reply)).toEqual({ ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1" }] });
    await expect(callGoRpc(path, "DHCP.Release", cmdArgsType, cmdArgsToGob(args), 5000)).rejects.toThrow(new RpcServerError("no lease here [code 11]"));
    await expect(callGoRpc(path, "DHCP.Nope", cmdArgsType, cmdArgsToGob(args), 5000)).rejects.toThrow("rpc: can't find method DHCP.Nope");
  });

  it("gives up on a daemon that accepts the call and never answers, after the time it was given", async () => {
    const path = await listen(() => undefined);
    const started = Date.now();
    await expect(callGoRpc(path, "DHCP.Allocate", cmdArgsType, cmdArgsToGob(args), 300)).rejects.toThrow(RpcTimeout);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("tells a socket nobody listens on from one that speaks something else", async () => {
    const missing = callGoRpc("/run/dh-nothing-here.sock", "DHCP.Allocate", cmdArgsType, cmdArgsToGob(args), 1000);
    await expect(missing).rejects.toThrow(RpcUnavailable);
    await missing.catch((error: RpcUnavailable) => expect(error.notRunning).toBe(true));
    const path = await listen((socket) => socket.end("HTTP/1.0 404 Not Found\r\n\r\n"));
    const other = callGoRpc(path, "DHCP.Allocate", cmdArgsType, cmdArgsToGob(args), 1000);
    await expect(other).rejects.toThrow('is not a Go net/rpc server (it answered "HTTP/1.0 404 Not Found")');
    await other.catch((error: RpcUnavailable) => expect(error.notRunning).toBe(false));
  });
});
