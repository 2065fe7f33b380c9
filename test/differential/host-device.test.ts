/**
 * Our host-device against the reference (/usr/lib/cni/host-device, containernetworking-plugins
 * 1.1.1): the same configuration moves the same veth end (in a "host" namespace of the test's
 * own) into a container; results, the container's state and the host's state after DEL are
 * compared, and each plugin's DEL undoes the other's ADD (the link alias is the shared record).
 *
 * Where we differ on purpose, the cases say so:
 * - After DEL, 1.1.1 leaves our alias (the device's host name) on the device; reference HEAD and
 *   we remove it (we put back the alias the device had before).
 * - 1.1.1 leaves the MTU and MAC the container set; we restore the host's.
 * - A second DEL: 1.1.1 fails with 999 ("Link not found"); DEL must be idempotent, we exit 0.
 * - A missing device: 1.1.1 answers 999; we answer 7 naming the key.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REFERENCE_BIN } from "../helpers/paths.ts";
import { HostDeviceFixture, OUR_HOST_DEVICE, type LinkView } from "../integration/host-device/harness.ts";

const REFERENCE = join(REFERENCE_BIN, "host-device");

let fixture: HostDeviceFixture;
afterEach(() => fixture?.remove());

/** What of the container's interface both plugins must leave alike. */
function containerState(fixture: HostDeviceFixture) {
  const link = fixture.containerLink()!;
  const addresses = fixture.container.exec(["ip", "-j", "addr", "show", "dev", "net1"]);
  const routes = fixture.container.exec(["ip", "-j", "route", "show"]);
  return { link: linkFacts(link), addresses: JSON.parse(addresses)[0].addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`), routes: JSON.parse(routes) };
}

function linkFacts(link: LinkView) {
  return { name: link.ifname, mac: link.address, mtu: link.mtu, alias: link.ifalias, up: link.flags.includes("UP") };
}

const ipam = { type: "static", addresses: [{ address: "10.231.11.5/24", gateway: "10.231.11.1" }], routes: [{ dst: "10.232.0.0/16" }], dns: { nameservers: ["10.231.11.53"] } };

describe("host-device gives the reference's results and state", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ...["0.2.0", "0.3.1", "0.4.0", "1.0.0"].map((version): [string, Record<string, unknown>, string] => [`static IPAM at ${version}`, { ipam, dns: { nameservers: ["10.231.11.54"] } }, version]),
    ["no IPAM", {}, "1.0.0"],
    ["no IPAM at 0.3.0", {}, "0.3.0"],
  ];
  it.each(cases)("%s", (_what, settings, version) => {
    fixture = new HostDeviceFixture();
    const config = fixture.config(settings, version);
    const outcomes = [REFERENCE, OUR_HOST_DEVICE].map((binary) => {
      const add = fixture.call(binary, "ADD", config);
      expect(add.status, `${binary}: ${add.stdout}`).toBe(0);
      const state = containerState(fixture);
      const del = fixture.call(binary, "DEL", { ...config, prevResult: add.json });
      expect(del.status, `${binary}: ${del.stdout}`).toBe(0);
      const host = linkFacts(fixture.hostLink(fixture.device)!);
      // 1.1.1 leaves its alias behind; the next ADD overwrites it either way.
      fixture.host.exec(["ip", "link", "set", fixture.device, "alias", ""]);
      return { result: add.json, state, host: { ...host, alias: undefined } };
    });
    expect(outcomes[1]).toEqual(outcomes[0]);
  });
});

describe("host-device and the reference undo each other's ADD", () => {
  it.each([
    ["reference ADD, our DEL", REFERENCE, OUR_HOST_DEVICE],
    ["our ADD, reference DEL", OUR_HOST_DEVICE, REFERENCE],
  ])("%s", (_what, adder, deleter) => {
    fixture = new HostDeviceFixture();
    const config = fixture.config({ ipam: { type: "static", addresses: [{ address: "10.231.12.5/24" }] } });
    expect(fixture.call(adder, "ADD", config).status).toBe(0);
    expect(fixture.call(deleter, "DEL", config).status).toBe(0);
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
    expect(fixture.hostLink(fixture.device)).toMatchObject({ address: fixture.mac, mtu: fixture.mtu });
  });
});

describe("host-device differs from the reference where the spec or DEL's rules ask", () => {
  it("DEL twice: the reference fails the second time, we exit 0", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config();
    for (const binary of [REFERENCE, OUR_HOST_DEVICE]) {
      expect(fixture.call(binary, "ADD", config).status).toBe(0);
      expect(fixture.call(binary, "DEL", config).status).toBe(0);
    }
    expect(fixture.call(REFERENCE, "DEL", config).json).toMatchObject({ code: 999 });
    expect(fixture.call(OUR_HOST_DEVICE, "DEL", config).status).toBe(0);
  });

  it("a missing device: both refuse, the reference with 999, we with 7 naming device", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config({ device: "hdmissing0" });
    expect(fixture.call(REFERENCE, "ADD", config).json).toMatchObject({ code: 999 });
    expect(fixture.call(OUR_HOST_DEVICE, "ADD", config).json).toMatchObject({ code: 7, msg: expect.stringContaining('device="hdmissing0"') });
  });

  it("the container changed MTU and MAC: the reference returns them as changed, we as the host had them", () => {
    fixture = new HostDeviceFixture();
    const config = fixture.config();
    const after = [REFERENCE, OUR_HOST_DEVICE].map((binary) => {
      expect(fixture.call(binary, "ADD", config).status).toBe(0);
      fixture.container.exec(["ip", "link", "set", "net1", "mtu", "1300", "address", "02:42:ac:11:00:99"]);
      expect(fixture.call(binary, "DEL", config).status).toBe(0);
      const back = linkFacts(fixture.hostLink(fixture.device)!);
      fixture.host.exec(["ip", "link", "set", fixture.device, "mtu", `${fixture.mtu}`, "address", fixture.mac, "alias", ""]);
      return back;
    });
    expect(after[0]).toMatchObject({ mtu: 1300, mac: "02:42:ac:11:00:99", alias: fixture.device });
    expect(after[1]).toMatchObject({ mtu: fixture.mtu, mac: fixture.mac, alias: undefined });
  });
});
