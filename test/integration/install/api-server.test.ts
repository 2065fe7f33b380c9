import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeTestCertificates, serviceAccountDir, startFakeApiServer, type FakeApiServer, type TestCertificates } from "../../helpers/kubernetes-api.ts";
import { makeNodeDirs, removeAll, runInstaller, type NodeDirs } from "./run-installer.ts";

/**
 * The pod CIDR from the Node object, read as a pod reads it: HTTPS to
 * KUBERNETES_SERVICE_HOST:PORT, trusting only the cluster's CA, with the service-account token.
 * The API server is a stand-in in this process (test/helpers/kubernetes-api.ts).
 */

const TOKEN = "test-token-of-the-cni-ts-service-account";
const NODES = {
  "worker-dual": { podCIDR: "10.244.3.0/24", podCIDRs: ["10.244.3.0/24", "fd00:10:244:3::/64"] },
  "worker-old": { podCIDR: "10.244.4.0/24" },
  "worker-unassigned": {},
  "worker-secret": "forbidden" as const,
};

describe("cni install reading the pod CIDR from the API server", () => {
  let certificates: TestCertificates;
  let server: FakeApiServer;
  const scratch: string[] = [];

  beforeAll(async () => {
    certificates = makeTestCertificates();
    server = await startFakeApiServer(certificates, TOKEN, NODES);
  });
  afterAll(async () => {
    await server?.close();
    certificates?.remove();
  });
  afterEach(() => removeAll(scratch));

  /** A node's directories, a service-account directory, and the environment a pod has. */
  function inPod(node: string, overrides: { token?: string; caFile?: string } = {}): { dirs: NodeDirs; args: string[]; env: Record<string, string> } {
    const dirs = makeNodeDirs(scratch);
    const account = serviceAccountDir(dirs.root, overrides.token ?? TOKEN, overrides.caFile ?? certificates.caFile);
    return {
      dirs,
      args: [...dirs.flags, "--service-account-dir", account],
      env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(server.port), NODE_NAME: node },
    };
  }

  function subnets(dirs: NodeDirs): string[] {
    const list = JSON.parse(readFileSync(join(dirs.conf, "10-cni-ts.conflist"), "utf8")) as { plugins: Array<{ ipam: { ranges: Array<Array<{ subnet: string }>> } }> };
    return list.plugins[0]!.ipam.ranges.flat().map((range) => range.subnet);
  }

  it("GETs its Node with the bearer token and fills in both pod CIDRs of a dual-stack node", async () => {
    const pod = inPod("worker-dual");
    const seen = server.requests.length;
    const run = await runInstaller(pod.args, pod.env);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`pod CIDR 10.244.3.0/24, fd00:10:244:3::/64 (from the Node object worker-dual at https://127.0.0.1:${server.port})`);
    expect(subnets(pod.dirs)).toEqual(["10.244.3.0/24", "fd00:10:244:3::/64"]);
    expect(server.requests.slice(seen)).toEqual([{ method: "GET", path: "/api/v1/nodes/worker-dual", authorization: `Bearer ${TOKEN}` }]);
  });

  it("falls back to spec.podCIDR on a Node without podCIDRs", async () => {
    const pod = inPod("worker-old");
    const run = await runInstaller(pod.args, pod.env);
    expect(run.status, run.stderr).toBe(0);
    expect(subnets(pod.dirs)).toEqual(["10.244.4.0/24"]);
  });

  it("asks no API server when the pod CIDR is given", async () => {
    const pod = inPod("worker-dual");
    const seen = server.requests.length;
    const run = await runInstaller([...pod.args, "--pod-cidr", "10.244.99.0/24"], pod.env);
    expect(run.status, run.stderr).toBe(0);
    expect(server.requests.length).toBe(seen);
  });

  // Each failure below leaves the node's directories as they were: nothing is written before
  // the pod CIDR is known.
  async function expectFailure(pod: ReturnType<typeof inPod>, ...messages: string[]): Promise<void> {
    const run = await runInstaller(pod.args, pod.env);
    expect(run.status, run.stdout).toBe(1);
    for (const message of messages) expect(run.stderr).toContain(message);
    expect(readdirSync(pod.dirs.bin)).toEqual([]);
    expect(readdirSync(pod.dirs.conf)).toEqual([]);
  }

  it("says the token was refused when the API server answers 401, naming the token file", async () => {
    const pod = inPod("worker-dual", { token: "a-stale-token" });
    await expectFailure(pod, `GET https://127.0.0.1:${server.port}/api/v1/nodes/worker-dual answered 401: Unauthorized`, "/serviceaccount/token was not accepted");
  });

  it("points at the ClusterRole when the API server answers 403", async () => {
    await expectFailure(inPod("worker-secret"), 'answered 403: Forbidden: nodes "worker-secret" is forbidden', "needs get on nodes");
  });

  it("says which node does not exist when the API server answers 404", async () => {
    await expectFailure(inPod("worker-gone"), 'answered 404: NotFound: nodes "worker-gone" not found', "spec.nodeName");
  });

  it("says how pod CIDRs get assigned when the Node has none", async () => {
    await expectFailure(inPod("worker-unassigned"), "node worker-unassigned has no pod CIDR", "--allocate-node-cidrs");
  });

  it("names the missing token file and what mounts it", async () => {
    const pod = inPod("worker-dual");
    const account = pod.args[pod.args.indexOf("--service-account-dir") + 1]!;
    const args = pod.args.map((arg) => (arg === account ? join(pod.dirs.root, "no-such-dir") : arg));
    await expectFailure({ ...pod, args }, `cannot read the service-account token, ${join(pod.dirs.root, "no-such-dir", "token")}`, "automountServiceAccountToken");
  });

  it("says it is not in a pod when KUBERNETES_SERVICE_HOST is not set, and how to give the pod CIDR instead", async () => {
    const pod = inPod("worker-dual");
    const { KUBERNETES_SERVICE_HOST: _, ...env } = pod.env;
    await expectFailure({ ...pod, env }, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set", "pass --pod-cidr or set POD_CIDR");
  });

  it("asks for NODE_NAME when it is not set", async () => {
    const pod = inPod("worker-dual");
    const { NODE_NAME: _, ...env } = pod.env;
    await expectFailure({ ...pod, env }, "set NODE_NAME (from the pod's spec.nodeName)");
  });

  it("refuses an API server whose certificate the cluster's CA did not sign", async () => {
    const pod = inPod("worker-dual", { caFile: certificates.otherCaFile });
    const run = await runInstaller(pod.args, pod.env);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes\/worker-dual: .*(certificate|CERT)/i);
  });

  it("says when nothing answers at the API server's address", async () => {
    const pod = inPod("worker-dual");
    await expectFailure({ ...pod, env: { ...pod.env, KUBERNETES_SERVICE_PORT: "1" } }, "GET https://127.0.0.1:1/api/v1/nodes/worker-dual: ", "ECONNREFUSED");
  });
});
