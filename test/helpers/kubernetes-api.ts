import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A stand-in for the Kubernetes API server, enough for a pod reading its Node: HTTPS with a
 * certificate from a CA made for the test (openssl, at test time; nothing is committed), the
 * bearer token checked, GET /api/v1/nodes/<name> answered with the Node object or with the
 * Status object the API server sends when it refuses.
 */

export interface TestCertificates {
  dir: string;
  caFile: string;
  /** Another CA, that signed nothing the server presents. */
  otherCaFile: string;
  key: Buffer;
  cert: Buffer;
  remove(): void;
}

/** A CA and a server certificate for 127.0.0.1 signed by it (EC P-256: quick to make). */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "cni-install-tls-"));
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  for (const ca of ["ca", "other-ca"]) {
    openssl(["req", "-x509", ...newKey, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "2", "-subj", `/CN=cni-ts test ${ca}`]);
  }
  openssl(["req", ...newKey, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver"]);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext"]);
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    otherCaFile: join(dir, "other-ca.crt"),
    key: readFileSync(join(dir, "server.key")),
    cert: readFileSync(join(dir, "server.crt")),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ApiRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface FakeApiServer {
  port: number;
  /** Every request received, in order. */
  requests: ApiRequest[];
  close(): Promise<void>;
}

/** What the API server answers when it refuses (k8s.io/apimachinery's metav1.Status). */
function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
}

/**
 * Serves `nodes` (name -> Node.spec) to requests bearing `token`. A node whose spec is
 * "forbidden" is refused with 403, as RBAC refuses a service account without get on nodes.
 */
export async function startFakeApiServer(certificates: TestCertificates, token: string, nodes: Record<string, object | "forbidden">): Promise<FakeApiServer> {
  const requests: ApiRequest[] = [];
  const server: Server = createServer({ key: certificates.key, cert: certificates.cert }, (req, res) => {
    const path = req.url ?? "";
    requests.push({ method: req.method ?? "", path, authorization: req.headers.authorization });
    const answer = (code: number, body: string) => {
      res.writeHead(code, { "Content-Type": "application/json" });
      res.end(body);
    };
    if (req.headers.authorization !== `Bearer ${token}`) return answer(401, status(401, "Unauthorized", "Unauthorized"));
    const name = /^\/api\/v1\/nodes\/([^/?]+)$/.exec(path)?.[1];
    if (req.method !== "GET" || name === undefined) return answer(404, status(404, "NotFound", "the server could not find the requested resource"));
    const spec = nodes[decodeURIComponent(name)];
    if (spec === undefined) return answer(404, status(404, "NotFound", `nodes "${name}" not found`));
    if (spec === "forbidden") {
      return answer(403, status(403, "Forbidden", `nodes "${name}" is forbidden: User "system:serviceaccount:kube-system:cni-ts" cannot get resource "nodes" in API group "" at the cluster scope`));
    }
    answer(200, JSON.stringify({ kind: "Node", apiVersion: "v1", metadata: { name }, spec, status: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A service-account directory as the kubelet mounts it: token and ca.crt. */
export function serviceAccountDir(parent: string, token: string, caFile: string): string {
  const dir = join(parent, "serviceaccount");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "token"), token);
  writeFileSync(join(dir, "ca.crt"), readFileSync(caFile));
  return dir;
}
