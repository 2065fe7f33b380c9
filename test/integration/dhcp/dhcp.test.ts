/**
 * The dhcp plugin and daemon against a real DHCP server: dnsmasq serves a "LAN" (a bridge in a
 * namespace of the test's own), containers join it through a main plugin with `ipam: dhcp`,
 * and our daemon (the compiled executable) gets, renews and releases their leases. What
 * dnsmasq saw is read from its lease file and its log.
 */
import { afterEach, describe, expect, it } from "vitest";
import { callPlugin } from "../../helpers/cni.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { Container, Daemon, Lan, waitFor, type LanOptions, type MainPlugin } from "./harness.ts";

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function lan(options: LanOptions = {}): Promise<Lan> {
  const made = new Lan(options);
  opened.push(made);
  await made.ready();
  return made;
}

async function daemon(flags: string[] = ["-timeout", "2s", "-resendtimeout", "20s"]): Promise<Daemon> {
  const made = new Daemon({ flags });
  opened.push(made);
  await made.ready();
  return made;
}

function newContainer(on: Lan, plugin: MainPlugin, network?: string): Container {
  const made = new Container(on, network, plugin);
  opened.push({ close: () => made.remove() });
  return made;
}

/**
 * The main plugins that take `ipam: dhcp` here. Each attaches a container to the LAN's bridge
 * segment: bridge as a port of it, macvlan as a macvlan on a veth whose peer is a port of it.
 * Every test below runs for each.
 */
const MAIN_PLUGINS: readonly MainPlugin[] = ["bridge", "macvlan"];

for (const mainPlugin of MAIN_PLUGINS) {
  describe(`${mainPlugin} with ipam dhcp, served by dnsmasq`, () => {
    const container = (on: Lan, network?: string) => newContainer(on, mainPlugin, network);

    it("gives two containers leases from dnsmasq; they ping the LAN's gateway; DEL releases each lease", async () => {
      const network = await lan();
      const ours = await daemon();
      const a = container(network);
      const b = container(network, a.network);
      const config = a.config({ daemonSocketPath: ours.socketPath });
      const results = [a, b].map((c) => {
        const outcome = c.call("ADD", config);
        expect(outcome.status, outcome.stdout).toBe(0);
        return outcome.json;
      });
      for (const [c, result] of [[a, results[0]], [b, results[1]]] as const) {
        const [ip] = result.ips;
        expect(ip.address).toMatch(new RegExp(`^${network.prefix.replaceAll(".", "\\.")}\\.1\\d\\d/24$`));
        expect(ip.gateway).toBe(network.gateway);
        expect(c.addresses()).toEqual([ip.address]);
        c.netns.exec(["ping", "-c", "1", "-W", "2", network.gateway]);
      }
      expect(results[0].ips[0].address).not.toBe(results[1].ips[0].address);
      expect(network.leases().map((lease) => lease.address).sort()).toEqual(results.map((r) => r.ips[0].address.split("/")[0]).sort());
      // dnsmasq prints the client identifier as hex: type 0, then "<container ID>/<network>/<ifname>".
      expect(network.leases().map((lease) => lease.clientId)).toContain(hex(`\0${a.id}/${a.network}/eth0`));

      const macA = a.mac();
      expect(a.call("DEL", config).status).toBe(0);
      await releasedAt(network, 1);
      expect(network.leases().map((lease) => lease.address)).toEqual([results[1].ips[0].address.split("/")[0]]);
      expect(network.exchanges(macA).at(-1)).toContain("DHCPRELEASE");
      expect(b.call("DEL", config).status).toBe(0);
      await releasedAt(network);
      expect(ours.log()).toContain(`${a.id}/${a.network}/eth0: released`);
    });

    it("answers in every spec version, giving the attachment the lease it already holds", async () => {
      const network = await lan();
      const ours = await daemon();
      const c = container(network);
      const config = c.config({ daemonSocketPath: ours.socketPath });
      const address = c.call("ADD", config).json.ips[0].address;
      const direct = (cniVersion: string) =>
        callPlugin(`${OUR_BIN}/dhcp`, { command: "ADD", containerId: c.id, netns: c.netns.path, ifname: "eth0", config: { ...config, cniVersion } }).json;
      for (const version of ["0.1.0", "0.2.0"]) {
        expect(direct(version)).toEqual({ cniVersion: version, ip4: { ip: address, gateway: network.gateway, routes: [{ dst: "0.0.0.0/0", gw: network.gateway }] }, dns: {} });
      }
      for (const version of ["0.3.0", "0.3.1", "0.4.0"]) {
        expect(direct(version)).toMatchObject({ cniVersion: version, ips: [{ version: "4", address, gateway: network.gateway }] });
      }
      for (const version of ["1.0.0", "1.1.0"]) {
        expect(direct(version)).toEqual({ cniVersion: version, ips: [{ address, gateway: network.gateway }], routes: [{ dst: "0.0.0.0/0", gw: network.gateway }], dns: {} });
      }
      expect(ours.log().match(/acquiring a lease/g)).toHaveLength(1);
      expect(c.call("DEL", config).status).toBe(0);
    });

    it("renews a short lease at T1: dnsmasq's lease file shows the later expiry", async () => {
      const network = await lan({ leaseTime: "2m", dhcpOptions: () => ["option:T1,3", "option:T2,100"] });
      const ours = await daemon();
      const c = container(network);
      const config = c.config({ daemonSocketPath: ours.socketPath });
      expect(c.call("ADD", config).status).toBe(0);
      const [first] = network.leases();
      const renewed = await waitFor("a renewal in dnsmasq's lease file", () => network.leases().find((lease) => lease.expires > first!.expires), 30_000);
      expect(renewed.address).toBe(first!.address);
      await waitFor("the daemon to log the renewal", () => /lease renewed/.test(ours.log()), 10_000);
      const mac = c.mac();
      const sequence = () => network.exchanges(mac).map((line) => /(DHCP[A-Z]+)\(/.exec(line)![1]);
      expect(sequence().slice(0, 6)).toEqual(["DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK", "DHCPREQUEST", "DHCPACK"]);
      expect(c.call("DEL", config).status).toBe(0);
      await releasedAt(network);
      expect(sequence().at(-1)).toBe("DHCPRELEASE");
      process.stdout.write(`dnsmasq's log of one container's lease, renewal and release:\n${network.exchanges(mac).join("\n")}\n`);
    });

    it("puts classless static routes (option 121) in the container, on-link ones included, and the router as gateway", async () => {
      const network = await lan({ dhcpOptions: (lan) => [`121,198.51.100.0/24,${lan.prefix}.254,203.0.113.0/25,0.0.0.0`] });
      const ours = await daemon();
      const c = container(network);
      const result = c.call("ADD", c.config({ daemonSocketPath: ours.socketPath })).json;
      const gatewayOf121 = `${network.prefix}.254`;
      expect(result.ips[0].gateway).toBe(network.gateway);
      expect(result.routes).toEqual([
        { dst: "198.51.100.0/24", gw: gatewayOf121 },
        { dst: "203.0.113.0/25", gw: "0.0.0.0", scope: 253 },
      ]);
      const routes = c.routes();
      expect(routes).toContainEqual(expect.objectContaining({ dst: "198.51.100.0/24", gateway: gatewayOf121 }));
      expect(routes).toContainEqual(expect.objectContaining({ dst: "203.0.113.0/25", scope: "link" }));
      expect(routes.find((route) => route.dst === "default")).toBeUndefined(); // 121 replaces the router option's default route
      c.call("DEL", c.config({ daemonSocketPath: ours.socketPath }));
    });

    it("without option 121, routes the default via the router option", async () => {
      const network = await lan();
      const ours = await daemon();
      const c = container(network);
      const config = c.config({ daemonSocketPath: ours.socketPath, priority: 50 });
      const result = c.call("ADD", config).json;
      expect(result.routes).toEqual([{ dst: "0.0.0.0/0", gw: network.gateway, priority: 50 }]);
      expect(c.routes()).toContainEqual(expect.objectContaining({ dst: "default", gateway: network.gateway }));
      c.call("DEL", config);
    });

    it("sends the provided host name, from the configuration and from CNI_ARGS, to dnsmasq's lease file", async () => {
      const network = await lan();
      const ours = await daemon();
      const fixed = container(network);
      const fixedConfig = fixed.config({ daemonSocketPath: ours.socketPath, provide: [{ option: "host-name", value: "web-fixed" }] });
      expect(fixed.call("ADD", fixedConfig).status).toBe(0);
      const fromArgs = container(network, fixed.network);
      const argsConfig = fromArgs.config({ daemonSocketPath: ours.socketPath, provide: [{ option: "12", fromArg: "K8S_POD_NAME" }] });
      expect(fromArgs.call("ADD", argsConfig, { args: "IgnoreUnknown=1;K8S_POD_NAME=web-pod" }).status).toBe(0);
      expect(network.leases().map((lease) => lease.hostname).sort()).toEqual(["web-fixed", "web-pod"]);
      fixed.call("DEL", fixedConfig);
      fromArgs.call("DEL", argsConfig, { args: "IgnoreUnknown=1;K8S_POD_NAME=web-pod" });
    });

    it("asks dnsmasq for the default options, or only for those of `request` with skipDefault", async () => {
      const network = await lan();
      const ours = await daemon();
      const lastRequested = () => network.log().split("\n").filter((line) => line.includes("requested options")).at(-1);
      const plain = container(network);
      const plainConfig = plain.config({ daemonSocketPath: ours.socketPath });
      expect(plain.call("ADD", plainConfig).status).toBe(0);
      expect(lastRequested()).toContain("requested options: 1:netmask, 3:router, 121:classless-static-route");
      expect(plain.call("DEL", plainConfig).status).toBe(0);
      const asking = container(network);
      const askingConfig = asking.config({ daemonSocketPath: ours.socketPath, request: [{ option: "subnet-mask", skipDefault: true }, { option: 6 }] });
      expect(asking.call("ADD", askingConfig).status).toBe(0);
      expect(lastRequested()).toContain("requested options: 1:netmask, 6:dns-server");
      expect(asking.call("DEL", askingConfig).status).toBe(0);
    });

    it("CHECK passes while the lease is held and answers 104 once it is not", async () => {
      const network = await lan();
      const ours = await daemon();
      const c = container(network);
      const config = c.config({ daemonSocketPath: ours.socketPath });
      const result = c.call("ADD", config).json;
      const check = () => c.call("CHECK", { ...config, prevResult: result });
      expect(check().status, check().stdout).toBe(0);
      await ours.stop(); // a restarted daemon holds no lease
      const restarted = await daemon();
      const unheld = c.call("CHECK", { ...c.config({ daemonSocketPath: restarted.socketPath }), prevResult: result });
      expect(unheld.json).toMatchObject({ code: 104 });
      expect(unheld.json.msg).toContain("no lease is held");
      expect(restarted.log()).not.toContain("acquiring"); // CHECK never acquires
      c.call("DEL", c.config({ daemonSocketPath: restarted.socketPath }));
    });

    it("a DEL whose container is already gone succeeds and forgets the lease", async () => {
      const network = await lan();
      const ours = await daemon();
      const c = container(network);
      const config = c.config({ daemonSocketPath: ours.socketPath });
      expect(c.call("ADD", config).status).toBe(0);
      c.remove();
      const del = c.call("DEL", config);
      expect(del.status, del.stdout).toBe(0);
      expect(ours.log()).toMatch(/gone.*forgetting|without a DHCPRELEASE/);
      const check = callPlugin(`${OUR_BIN}/dhcp`, { command: "CHECK", containerId: c.id, netns: network.netns.path, ifname: "eth0", config: { ...config, prevResult: { cniVersion: "1.0.0" } } });
      expect(check.json).toMatchObject({ code: 104 });
    });

    it("SIGTERM stops the daemon without releasing: the lease stays at dnsmasq and on the container", async () => {
      const network = await lan();
      const ours = await daemon();
      const c = container(network);
      const config = c.config({ daemonSocketPath: ours.socketPath });
      const result = c.call("ADD", config).json;
      expect(await ours.stop()).toBe(0);
      expect(ours.log()).toMatch(/SIGTERM: shutting down; 1 lease stays valid/);
      expect(network.leases().map((lease) => lease.address)).toEqual([result.ips[0].address.split("/")[0]]);
      expect(network.log()).not.toContain("DHCPRELEASE");
      expect(c.addresses()).toEqual([result.ips[0].address]);
      // The next daemon knows nothing of it; DEL still succeeds.
      const next = await daemon();
      expect(c.call("DEL", c.config({ daemonSocketPath: next.socketPath })).status).toBe(0);
    });
  });
}

/** dnsmasq writes its lease file after it handled the release: wait until `left` leases remain. */
async function releasedAt(network: Lan, left = 0): Promise<void> {
  await waitFor(`dnsmasq's lease file to hold ${left} lease(s)`, () => network.leases().length === left, 10_000);
}

function hex(text: string): string {
  return [...Buffer.from(text)].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
}
