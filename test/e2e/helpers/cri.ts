import { GrpcUnixClient } from "./grpc.ts";
import {
  boolField,
  DecodedMessage,
  message,
  messageField,
  repeatedMessageField,
  stringField,
  stringMapField,
  uintField,
} from "./protobuf.ts";

/**
 * The few calls of the Kubernetes CRI (runtime.v1.RuntimeService) that run a pod sandbox: what
 * the kubelet asks containerd to do before any container of a pod starts, and where containerd
 * runs the CNI plugins (ADD on RunPodSandbox, DEL on StopPodSandbox). Field numbers are those of
 * k8s.io/cri-api's api.proto.
 */

const SERVICE = "/runtime.v1.RuntimeService";

export interface PodSandboxSpec {
  name: string;
  uid: string;
  namespace: string;
  portMappings?: Array<{ containerPort: number; hostPort: number }>;
  /** kubernetes.io/ingress-bandwidth and -egress-bandwidth reach the bandwidth plugin from here. */
  annotations?: Record<string, string>;
  cgroupParent?: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface PodSandboxStatus {
  id: string;
  /** "ready" or "notready" (SANDBOX_READY = 0, SANDBOX_NOTREADY = 1). */
  state: "ready" | "notready";
  ip: string;
  /** With verbose: containerd's extra information, JSON by key ("info" holds the sandbox's). */
  info: Record<string, string>;
}

/** Encodes a PodSandboxConfig message. */
function encodeSandboxConfig(spec: PodSandboxSpec): Buffer {
  // PodSandboxMetadata: name = 1, uid = 2, namespace = 3
  const metadata = message(stringField(1, spec.name), stringField(2, spec.uid), stringField(3, spec.namespace));
  // PortMapping: protocol = 1 (left at its default, TCP), container_port = 2, host_port = 3
  const portMappings = (spec.portMappings ?? []).map((mapping) => message(uintField(2, mapping.containerPort), uintField(3, mapping.hostPort)));
  // LinuxPodSandboxConfig: cgroup_parent = 1
  const linux = message(stringField(1, spec.cgroupParent));
  // PodSandboxConfig: metadata = 1, hostname = 2, port_mappings = 5, annotations = 7, linux = 8
  return message(
    messageField(1, metadata),
    stringField(2, spec.name),
    repeatedMessageField(5, portMappings),
    stringMapField(7, spec.annotations),
    messageField(8, linux),
  );
}

export class CriRuntimeService {
  private constructor(private readonly grpc: GrpcUnixClient) {}

  static connect(socketPath: string): CriRuntimeService {
    return new CriRuntimeService(GrpcUnixClient.connect(socketPath));
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    const answer = DecodedMessage.decode(await this.grpc.call(`${SERVICE}/Version`, message(stringField(1, "v1"))));
    return { runtimeName: answer.string(2), runtimeVersion: answer.string(3), runtimeApiVersion: answer.string(4) };
  }

  /** The runtime's conditions (RuntimeReady, NetworkReady) and, verbose, its configuration. */
  async status(): Promise<{ conditions: RuntimeCondition[]; info: Record<string, string> }> {
    const answer = DecodedMessage.decode(await this.grpc.call(`${SERVICE}/Status`, message(boolField(1, true))));
    const conditions = answer
      .message(1)
      .messages(1)
      .map((condition) => ({
        type: condition.string(1),
        status: condition.bool(2),
        reason: condition.string(3),
        message: condition.string(4),
      }));
    return { conditions, info: answer.stringMap(2) };
  }

  /** Creates the sandbox and its network (the CNI ADD); resolves with the sandbox ID. */
  async runPodSandbox(spec: PodSandboxSpec): Promise<string> {
    const request = message(messageField(1, encodeSandboxConfig(spec)));
    return DecodedMessage.decode(await this.grpc.call(`${SERVICE}/RunPodSandbox`, request, 120_000)).string(1);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const request = message(stringField(1, id), boolField(2, true));
    const answer = DecodedMessage.decode(await this.grpc.call(`${SERVICE}/PodSandboxStatus`, request));
    const status = answer.message(1);
    const network = status.message(5);
    return {
      id: status.string(1),
      state: status.number(3) === 0 ? "ready" : "notready",
      ip: network.string(1),
      info: answer.stringMap(2),
    };
  }

  /** Stops the sandbox and tears its network down (the CNI DEL). Idempotent. */
  async stopPodSandbox(id: string): Promise<void> {
    await this.grpc.call(`${SERVICE}/StopPodSandbox`, message(stringField(1, id)), 120_000);
  }

  /** Idempotent. */
  async removePodSandbox(id: string): Promise<void> {
    await this.grpc.call(`${SERVICE}/RemovePodSandbox`, message(stringField(1, id)), 120_000);
  }

  /** IDs of every sandbox the runtime knows. */
  async listPodSandboxIds(): Promise<string[]> {
    const answer = DecodedMessage.decode(await this.grpc.call(`${SERVICE}/ListPodSandbox`, Buffer.alloc(0)));
    return answer.messages(1).map((sandbox) => sandbox.string(1));
  }

  close(): void {
    this.grpc.close();
  }
}
