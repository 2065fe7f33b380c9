/**
 * Either half of dhcp can be the reference's (containernetworking-plugins 1.1.1, in
 * /usr/lib/cni): both daemons speak Go's net/rpc with gob on the socket, so the reference plugin
 * works with our daemon and ours with the reference daemon, and users can switch one half at a
 * time. Leases come from dnsmasq, as in dhcp.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Container, Daemon, Lan, pathWithReferenceDhcp, waitFor } from "./harness.ts";

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function setUp(daemonOptions: { reference?: boolean }) {
  const network = new Lan();
  opened.push(network);
  await network.ready();
  const daemon = new Daemon({ ...daemonOptions, flags: ["-timeout", "2s"] });
  opened.push(daemon);
  await daemon.ready();
  const c = new Container(network);
  opened.push({ close: () => c.remove() });
  return { network, daemon, c };
}

/** The reference 1.1.1 asks for the subnet mask and router only; ours adds option 121 unless told. */
const REFERENCE_REQUEST = [{ option: "subnet-mask", skipDefault: true }, { option: "routers" }];

describe("interoperability with the reference dhcp", () => {
  it("the reference plugin gets, checks and releases a lease through our daemon", async () => {
    const { network, daemon, c } = await setUp({});
    const referencePath = pathWithReferenceDhcp();
    opened.push({ close: () => referencePath.remove() });
    const config = c.config({ daemonSocketPath: daemon.socketPath });
    const added = c.call("ADD", config, { cniPath: referencePath.path });
    expect(added.status, added.stdout).toBe(0);
    expect(added.json.ips[0]).toMatchObject({ address: expect.stringMatching(/\/24$/), gateway: network.gateway });
    c.netns.exec(["ping", "-c", "1", "-W", "2", network.gateway]);
    expect(c.call("CHECK", { ...config, prevResult: added.json }, { cniPath: referencePath.path }).status).toBe(0);
    expect(daemon.log().match(/acquiring a lease/g)).toHaveLength(1); // CHECK's DHCP.Allocate found the held lease
    const mac = c.mac();
    expect(c.call("DEL", config, { cniPath: referencePath.path }).status).toBe(0);
    await waitFor("the release at dnsmasq", () => network.leases().length === 0, 10_000);
    expect(network.exchanges(mac).at(-1)).toContain("DHCPRELEASE");
  });

  it("our plugin gets, checks and releases a lease through the reference daemon", async () => {
    const { network, daemon, c } = await setUp({ reference: true });
    const config = c.config({ daemonSocketPath: daemon.socketPath });
    const added = c.call("ADD", config);
    expect(added.status, added.stdout).toBe(0);
    expect(added.json.ips[0].gateway).toBe(network.gateway);
    c.netns.exec(["ping", "-c", "1", "-W", "2", network.gateway]);
    // The reference daemon has no DHCP.Check; our plugin falls back to DHCP.Allocate, as the reference plugin does.
    expect(c.call("CHECK", { ...config, prevResult: added.json }).status).toBe(0);
    const mac = c.mac();
    expect(c.call("DEL", config).status).toBe(0);
    // Our bridge calls IPAM DEL before deleting the interface, so even the reference daemon's release goes out.
    await waitFor("the release at dnsmasq", () => network.leases().length === 0, 10_000);
    expect(network.exchanges(mac).at(-1)).toContain("DHCPRELEASE");
    expect(daemon.log()).not.toMatch(/failed to release/);
  });

  it("our plugin and daemon give the reference's result for the reference's request", async () => {
    const outcomes = [];
    for (const reference of [true, false]) {
      const { daemon, c } = await setUp({ reference });
      const referencePath = pathWithReferenceDhcp();
      opened.push({ close: () => referencePath.remove() });
      const config = c.config({ daemonSocketPath: daemon.socketPath, request: REFERENCE_REQUEST, priority: 0 });
      const added = c.call("ADD", config, reference ? { cniPath: referencePath.path } : {});
      expect(added.status, added.stdout).toBe(0);
      outcomes.push({ result: added.json, prefix: c.lan.prefix });
      c.call("DEL", config, reference ? { cniPath: referencePath.path } : {});
    }
    // Each LAN has its own random subnet, and dnsmasq picks the address from the client's
    // identifier: compare with the subnet's prefix written "LAN" and the leased host as "host".
    const [reference, ours] = outcomes.map(({ result, prefix }) => {
      const text = JSON.stringify({ ips: result.ips, routes: result.routes, dns: result.dns }).replaceAll(prefix, "LAN");
      return JSON.parse(text.replace(/"LAN\.1\d\d\/24"/, '"LAN.host/24"'));
    });
    expect(ours).toEqual(reference);
    expect(ours.ips[0].address).toBe("LAN.host/24");
  });
});
