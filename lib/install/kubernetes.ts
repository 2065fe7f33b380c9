import { readFileSync } from "node:fs";
import { request } from "node:https";
import { isIP } from "node:net";
import { join } from "node:path";
import { z } from "zod";
import { InstallError } from "./errors.ts";

/**
 * Reads the node's pod CIDRs from its Node object, as a pod does: the API server's address from
 * the KUBERNETES_SERVICE_HOST/PORT variables the kubelet sets in every container, and the
 * pod's service-account token and the cluster's CA from the directory the kubelet mounts.
 */

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const TIMEOUT_MS = 15_000;
/** A Node object is a few kilobytes; a reply far larger than that is not one. */
const MAX_REPLY_BYTES = 4 << 20;

export interface InClusterAccess {
  /** https://host:port, for messages. */
  server: string;
  host: string;
  port: number;
  token: string;
  ca: Buffer;
  tokenFile: string;
}

/** The API server's address and the pod's credentials, or an error that says which is missing. */
export function inClusterAccess(env: NodeJS.ProcessEnv, serviceAccountDir: string): InClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new InstallError(
      "no pod CIDR given and no API server to ask: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?); " +
        "pass --pod-cidr or set POD_CIDR",
    );
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new InstallError(`KUBERNETES_SERVICE_PORT is "${port}", not a port number`);
  const tokenFile = join(serviceAccountDir, "token");
  const caFile = join(serviceAccountDir, "ca.crt");
  const token = readCredential(tokenFile, "the service-account token").toString("utf8").trim();
  if (token === "") throw new InstallError(`the service-account token ${tokenFile} is empty`);
  const ca = readCredential(caFile, "the cluster's CA certificate");
  const server = `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  return { server, host, port: Number(port), token, ca, tokenFile };
}

function readCredential(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InstallError(
      `cannot read ${what}, ${path}: ${(error as Error).message} ` +
        "(the pod needs its service-account token mounted: automountServiceAccountToken must not be false)",
    );
  }
}

const nodeSchema = z.object({
  spec: z.object({ podCIDR: z.string().optional(), podCIDRs: z.array(z.string()).optional() }).optional(),
});

/** Kubernetes' Status object: what the API server answers with when it refuses a request. */
const statusSchema = z.object({ message: z.string().optional(), reason: z.string().optional() });

/** GET /api/v1/nodes/<name>: the node's pod CIDRs (spec.podCIDRs, or spec.podCIDR on older clusters). */
export async function nodePodCidrs(access: InClusterAccess, nodeName: string): Promise<string[]> {
  const path = `/api/v1/nodes/${encodeURIComponent(nodeName)}`;
  const url = `${access.server}${path}`;
  const reply = await get(access, path, url);
  let body: unknown;
  try {
    body = JSON.parse(reply.body);
  } catch {
    body = undefined;
  }
  if (reply.status !== 200) {
    const status = statusSchema.safeParse(body);
    const said = status.success ? `: ${[status.data.reason, status.data.message].filter(Boolean).join(": ")}` : "";
    throw new InstallError(`GET ${url} answered ${reply.status}${said}${hintFor(reply.status, access, nodeName)}`);
  }
  const node = nodeSchema.safeParse(body);
  if (!node.success) throw new InstallError(`GET ${url}: the answer is not a Node object`);
  const { podCIDRs, podCIDR } = node.data.spec ?? {};
  const cidrs = podCIDRs?.length ? podCIDRs : podCIDR ? [podCIDR] : [];
  if (cidrs.length === 0) {
    throw new InstallError(
      `node ${nodeName} has no pod CIDR (spec.podCIDR is empty): the controller manager assigns them with --allocate-node-cidrs and --cluster-cidr; or pass --pod-cidr`,
    );
  }
  return cidrs;
}

function hintFor(status: number, access: InClusterAccess, nodeName: string): string {
  if (status === 401) return ` (the token in ${access.tokenFile} was not accepted)`;
  if (status === 403) return " (the pod's service account needs get on nodes: see the ClusterRole in deploy/kubernetes)";
  if (status === 404) return ` (no node named ${nodeName}: NODE_NAME should come from the pod's spec.nodeName)`;
  return "";
}

function get(access: InClusterAccess, path: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const failed = (why: string) => reject(new InstallError(`GET ${url}: ${why}`));
    const req = request(
      {
        host: access.host,
        port: access.port,
        path,
        method: "GET",
        ca: access.ca,
        headers: { Authorization: `Bearer ${access.token}`, Accept: "application/json" },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_REPLY_BYTES) {
            req.destroy();
            failed(`the answer is larger than ${MAX_REPLY_BYTES} bytes`);
          } else chunks.push(chunk);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (error) => failed(error.message));
      },
    );
    req.on("timeout", () => {
      req.destroy();
      failed(`no answer within ${TIMEOUT_MS / 1000} s`);
    });
    req.on("error", (error) => failed(error.message));
    req.end();
  });
}
