import { execFile, spawn, spawnSync } from "node:child_process";
import { closeSync, copyFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockFile } from "../../lib/sys/index.ts";
import { pluginLoaders } from "../../plugins/index.ts";
import { makeTestCertificates, serviceAccountDir, startFakeApiServer } from "../helpers/kubernetes-api.ts";
import { createNetns, linkExists } from "../helpers/netns.ts";
import { DIST, OUR_BIN, REFERENCE_BIN } from "../helpers/paths.ts";
import { readYamlDocuments } from "../helpers/yaml.ts";
import { randomSubnets, RUN_TAG } from "../helpers/tag.ts";
import { makeNodeDirs, removeAll, type NodeDirs } from "../integration/install/run-installer.ts";
import { run } from "./helpers/commands.ts";
import { runtimeWorkspace } from "./helpers/host-cleanup.ts";
import { createPrivatePodman, PODMAN_HOST_PATHS, PODMAN_RUN, podmanMissing, type PrivatePodman } from "./helpers/podman.ts";
import { Teardown } from "./helpers/teardown.ts";
import { timed } from "./helpers/timing.ts";

/**
 * The installer image (`npm run image`, scripts/image.sh) run by podman as a kubelet runs the
 * DaemonSet's pod: the node's /opt/cni/bin and /etc/cni/net.d are temporary directories mounted
 * where deploy/kubernetes mounts the host's, the root file system is read-only and every
 * capability is dropped. Two images are built from two builds whose bytes differ, to upgrade a
 * node while a plugin of the first is running. podman's storage is the test's own.
 */
const missing = podmanMissing();
if (missing) console.warn(`installer image tests skipped: ${missing}`);

const PLUGINS = Object.keys(pluginLoaders).sort();
const CONFLIST = "10-cni-ts.conflist";
const NODE_BIN = "/host/opt/cni/bin";
const NODE_CONF = "/host/etc/cni/net.d";

function fingerprint(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, `${statSync(join(dir, name)).ino}:${statSync(join(dir, name)).mtimeMs}`]));
}

describe.skipIf(missing !== undefined)("the installer image, run by podman", () => {
  const teardown = new Teardown();
  const scratch: string[] = [];
  const cgroupParent = `cnits-inst-${RUN_TAG}`;
  const images = { v1: `localhost/cni-ts-test:${RUN_TAG}-1`, v2: `localhost/cni-ts-test:${RUN_TAG}-2` };
  let dir: string;
  let podman: PrivatePodman;
  let secondBuild: string;

  /** `podman run` of the image as the DaemonSet's container runs: read-only root, no capabilities. */
  function podmanRun(extra: string[]): string[] {
    return [...PODMAN_RUN, "--rm", "--read-only", "--cap-drop", "all", "--security-opt", "no-new-privileges", "--cgroup-parent", `/${cgroupParent}`, ...extra];
  }

  /** Runs the image on a node's directories; returns what it printed. */
  function install(image: string, node: NodeDirs, args: string[]): string {
    const mounts = ["-v", `${node.bin}:${NODE_BIN}`, "-v", `${node.conf}:${NODE_CONF}`];
    return podman.podman([...podmanRun(["--network", "none", ...mounts]), image, `--bin-dir=${NODE_BIN}`, `--conf-dir=${NODE_CONF}`, ...args]);
  }

  beforeAll(() => {
    dir = runtimeWorkspace(teardown, { prefix: "e2e-installer-", hostPaths: PODMAN_HOST_PATHS, cgroup: cgroupParent });
    podman = createPrivatePodman(dir, OUR_BIN);
    teardown.add("remove the test's images", () => void spawnSync("podman", ["rmi", "--force", images.v1, images.v2], { env: podman.env }));
    const built = timed("npm run image (scripts/image.sh --no-build)", () =>
      run("bash", ["scripts/image.sh", "--no-build", "--tag", images.v1], { env: { ...podman.env, CNI_DIST: DIST }, timeoutMs: 180_000 }),
    );
    console.log(`[installer image] ${built.trim()}`);
    // A second build of the same sources with other bytes (names kept): the upgrade.
    secondBuild = join(dir, "dist2");
    run("node_modules/.bin/bun", ["scripts/build.ts", "--outdir", secondBuild, "--keep-names"], { timeoutMs: 180_000 });
    run("bash", ["scripts/image.sh", "--no-build", "--tag", images.v2], { env: { ...podman.env, CNI_DIST: secondBuild }, timeoutMs: 180_000 });
  }, 400_000);

  afterAll(async () => {
    removeAll(scratch);
    await teardown.run();
  }, 120_000);

  it("holds the executable, the C library it links against and nothing else, with cni install as entry point", () => {
    const [inspected] = JSON.parse(podman.podman(["image", "inspect", images.v1])) as Array<{ Size: number; Config: { Entrypoint: string[] } }>;
    expect(inspected!.Config.Entrypoint).toEqual(["/usr/local/bin/cni", "install"]);
    const executable = statSync(join(DIST, "cni")).size;
    expect(inspected!.Size).toBeGreaterThan(executable);
    expect(inspected!.Size, "the executable plus a few MB of C library").toBeLessThan(executable + 8_000_000);
  });

  it("installs every plugin, executable, and the conflist with the pod CIDR; replaces the reference's bridge and leaves multus alone", () => {
    const node = makeNodeDirs(scratch);
    copyFileSync(join(REFERENCE_BIN, "bridge"), join(node.bin, "bridge"));
    writeFileSync(join(node.bin, "multus"), "#!/bin/sh\n", { mode: 0o755 });
    const multus = fingerprint(node.bin).multus;
    const output = install(images.v1, node, ["--pod-cidr=10.244.5.0/24"]);
    expect(output).toContain(`replaced  ${NODE_BIN}/bridge (held another executable)`);
    expect(readdirSync(node.bin).sort()).toEqual([...PLUGINS, "multus"].sort());
    for (const name of PLUGINS) {
      expect(statSync(join(node.bin, name)).mode & 0o777, name).toBe(0o755);
      expect(statSync(join(node.bin, name)).ino, name).toBe(statSync(join(node.bin, "bridge")).ino);
    }
    expect(readFileSync(join(node.bin, "portmap")).equals(readFileSync(join(DIST, "cni")))).toBe(true);
    expect(fingerprint(node.bin).multus).toBe(multus);
    const list = JSON.parse(readFileSync(join(node.conf, CONFLIST), "utf8")) as { plugins: Array<{ ipam?: { ranges: unknown } }> };
    expect(list.plugins[0]!.ipam!.ranges).toEqual([[{ subnet: "10.244.5.0/24" }]]);
    // The installed plugin runs on the node (here: this host).
    const version = spawnSync(join(node.bin, "bridge"), { env: { CNI_COMMAND: "VERSION" }, input: "", encoding: "utf8" });
    expect(JSON.parse(version.stdout).supportedVersions).toContain("1.1.0");
  });

  it("changes nothing on a second run", () => {
    const node = makeNodeDirs(scratch);
    install(images.v1, node, ["--pod-cidr=10.244.5.0/24"]);
    const before = { bin: fingerprint(node.bin), conf: fingerprint(node.conf) };
    expect(install(images.v1, node, ["--pod-cidr=10.244.5.0/24"])).toContain("nothing to change");
    expect({ bin: fingerprint(node.bin), conf: fingerprint(node.conf) }).toEqual(before);
  });

  it("upgrades a node while a plugin of the old version is in the middle of an ADD, which then succeeds", async () => {
    const node = makeNodeDirs(scratch);
    install(images.v1, node, ["--no-conflist"]);
    const oldInode = statSync(join(node.bin, "bridge")).ino;
    const nodeNetns = createNetns("inh");
    const pod = createNetns("inp");
    teardown.add(`remove namespaces ${nodeNetns.name} and ${pod.name}`, () => {
      pod.remove();
      nodeNetns.remove();
    });

    // A real reason for an ADD to take long: host-local waits for its data directory's lock,
    // which this test holds (as another ADD on the node would) until the upgrade is done.
    const dataDir = join(node.root, "var/lib/cni/networks");
    const network = "upgrade";
    mkdirSync(join(dataDir, network), { recursive: true });
    const lock = lockFile(join(dataDir, network, "lock"), 1_000);
    let lockHeld = true;
    teardown.add("release the host-local lock", () => void (lockHeld && closeSync(lock)));
    const subnet = randomSubnets().v4;
    const config = { cniVersion: "1.0.0", name: network, type: "bridge", bridge: "cni0", isGateway: true, ipam: { type: "host-local", dataDir, ranges: [[{ subnet }]] } };
    const env = { PATH: process.env.PATH, CNI_COMMAND: "ADD", CNI_CONTAINERID: `upgrade-${RUN_TAG}`, CNI_NETNS: pod.path, CNI_IFNAME: "eth0", CNI_PATH: node.bin };
    const add = spawn("ip", ["netns", "exec", nodeNetns.name, join(node.bin, "bridge")], { env });
    let stdout = "";
    let stderr = "";
    add.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    add.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => add.on("close", resolve));
    add.stdin.end(JSON.stringify(config));

    // The veth pair exists once the plugin has reached IPAM, where it now waits.
    const deadline = Date.now() + 8_000;
    while (!linkExists("eth0", pod.name) && Date.now() < deadline) await sleep(50);
    expect(linkExists("eth0", pod.name), `the ADD should be waiting in IPAM: ${stderr}`).toBe(true);
    expect(readlinkSync(`/proc/${add.pid}/exe`)).toBe(join(node.bin, "bridge"));

    const upgrade = install(images.v2, node, ["--no-conflist"]);
    expect(upgrade).toContain(`replaced  ${NODE_BIN}/bridge (held another executable)`);
    // The running plugin's executable is the old file, no longer under any name.
    expect(readlinkSync(`/proc/${add.pid}/exe`)).toBe(`${join(node.bin, "bridge")} (deleted)`);
    expect(statSync(join(node.bin, "bridge")).ino).not.toBe(oldInode);
    expect(readFileSync(join(node.bin, "bridge")).equals(readFileSync(join(secondBuild, "cni")))).toBe(true);

    closeSync(lock);
    lockHeld = false;
    expect(await exited, stdout + stderr).toBe(0);
    const result = JSON.parse(stdout) as { ips: Array<{ address: string }> };
    expect(result.ips[0]!.address.startsWith(subnet.replace(/0\/24$/, ""))).toBe(true);

    // The new version deletes what the old one added.
    const del = spawnSync("ip", ["netns", "exec", nodeNetns.name, join(node.bin, "bridge")], { env: { ...env, CNI_COMMAND: "DEL" }, input: JSON.stringify(config), encoding: "utf8" });
    expect(del.status, del.stdout + del.stderr).toBe(0);
    expect(linkExists("eth0", pod.name)).toBe(false);
    expect(readdirSync(join(dataDir, network)).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name))).toEqual([]);
  }, 120_000);

  it("runs as deploy/kubernetes's DaemonSet says: template from the ConfigMap, pod CIDR from its Node via the API server, ready, stops on SIGTERM", async () => {
    const daemonSet = readYamlDocuments("deploy/kubernetes/daemonset.yaml")[0] as DaemonSetSpec;
    const configMap = readYamlDocuments("deploy/kubernetes/configmap.yaml")[0] as { data: Record<string, string> };
    const pod = daemonSet.spec.template.spec;
    const container = pod.containers[0]!;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);

    const certificates = makeTestCertificates();
    const token = `token-${RUN_TAG}`;
    const api = await startFakeApiServer(certificates, token, { "node-7": { podCIDRs: ["10.244.7.0/24", "fd00:10:244:7::/64"] } });
    teardown.add("stop the API server", async () => {
      await api.close();
      certificates.remove();
    });
    const node = makeNodeDirs(scratch);
    const templateDir = join(node.root, "configmap");
    mkdirSync(templateDir);
    for (const [file, text] of Object.entries(configMap.data)) writeFileSync(join(templateDir, file), text);
    const hostPaths: Record<string, string> = { "/opt/cni/bin": node.bin, "/etc/cni/net.d": node.conf };
    const mounts = container.volumeMounts.flatMap((mount) => {
      const volume = pod.volumes.find((candidate) => candidate.name === mount.name)!;
      const source = volume.hostPath ? hostPaths[volume.hostPath.path]! : templateDir;
      return ["-v", `${source}:${mount.mountPath}${mount.readOnly ? ":ro" : ""}`];
    });
    expect(container.env).toEqual([{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]);
    const account = serviceAccountDir(node.root, token, certificates.caFile);
    const name = `cnits-installer-${RUN_TAG}`;
    const apiEnv = ["-e", "KUBERNETES_SERVICE_HOST=127.0.0.1", "-e", `KUBERNETES_SERVICE_PORT=${api.port}`, "-e", "NODE_NAME=node-7"];
    const runArgs = podmanRun(["-d", "--name", name, "--network", "host", ...mounts, "-v", `${account}:/var/run/secrets/kubernetes.io/serviceaccount:ro`, ...apiEnv]);
    // Asynchronous from here on: the API server answers from this process.
    await podmanAsync([...runArgs.filter((arg) => arg !== "--rm"), images.v1, ...container.args]);
    teardown.add(`remove the container ${name}`, () => void spawnSync("podman", ["rm", "--force", "--time", "0", name], { env: podman.env }));
    let logs = "";
    for (let attempt = 0; attempt < 100 && !logs.includes("staying up until stopped"); attempt++) {
      await sleep(100);
      logs = await podmanAsync(["logs", name]);
    }
    expect(logs).toContain("pod CIDR 10.244.7.0/24, fd00:10:244:7::/64 (from the Node object node-7 at https://127.0.0.1:");
    expect(api.requests.map((request) => request.authorization)).toEqual([`Bearer ${token}`]);
    const list = JSON.parse(readFileSync(join(node.conf, CONFLIST), "utf8")) as { plugins: Array<{ ipam?: { ranges: unknown } }> };
    expect(list.plugins[0]!.ipam!.ranges).toEqual([[{ subnet: "10.244.7.0/24" }], [{ subnet: "fd00:10:244:7::/64" }]]);

    // The readiness probe, as the kubelet runs it: ready, then not once a plugin is gone.
    const probe = container.readinessProbe.exec.command;
    expect(await podmanAsync(["exec", name, ...probe])).toContain("ready");
    copyFileSync(join(REFERENCE_BIN, "bridge"), join(node.bin, "bridge"));
    await expect(podmanAsync(["exec", name, ...probe])).rejects.toThrow(/bridge is not this version's executable/);

    await podmanAsync(["stop", "--time", "10", name]);
    expect((await podmanAsync(["inspect", "--format", "{{.State.ExitCode}}", name])).trim()).toBe("0");
  }, 120_000);

  function podmanAsync(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("podman", args, { env: podman.env, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`podman ${args.join(" ")}: ${stderr || error.message}`));
        else resolve(stdout + stderr);
      });
    });
  }
});

interface DaemonSetSpec {
  spec: {
    template: {
      spec: {
        hostNetwork: boolean;
        tolerations: unknown[];
        containers: Array<{
          args: string[];
          env: unknown[];
          readinessProbe: { exec: { command: string[] } };
          volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
        }>;
        volumes: Array<{ name: string; hostPath?: { path: string }; configMap?: { name: string } }>;
      };
    };
  };
}
