/**
 * host-device chained with tuning, as a runtime runs a list: ADD host-device then tuning (which
 * changes the moved device's MAC and MTU), DEL in reverse order. The host gets its device back as
 * it was, whichever plugin restores what.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OUR_BIN } from "../../helpers/paths.ts";
import { HostDeviceFixture, OUR_HOST_DEVICE } from "./harness.ts";

let fixture: HostDeviceFixture;
afterEach(() => fixture?.remove());

describe("host-device chained with tuning", () => {
  it("gives tuning the moved device and gets it back with the host's MAC and MTU", () => {
    fixture = new HostDeviceFixture();
    const hostDevice = fixture.config({ ipam: { type: "static", addresses: [{ address: "10.231.13.5/24" }] } });
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", hostDevice);
    expect(add.status, add.stdout).toBe(0);
    const tuning = { cniVersion: "1.0.0", name: "hdnet", type: "tuning", mtu: 1280, mac: "02:42:ac:11:00:77", dataDir: join(fixture.scratch, "tuning"), prevResult: add.json };
    const tuned = fixture.call(join(OUR_BIN, "tuning"), "ADD", tuning);
    expect(tuned.status, tuned.stdout).toBe(0);
    expect(fixture.containerLink()).toMatchObject({ mtu: 1280, address: "02:42:ac:11:00:77" });
    expect(fixture.call(OUR_HOST_DEVICE, "CHECK", { ...hostDevice, prevResult: tuned.json }).status).toBe(0);

    expect(fixture.call(join(OUR_BIN, "tuning"), "DEL", tuning).status).toBe(0);
    expect(fixture.call(OUR_HOST_DEVICE, "DEL", { ...hostDevice, prevResult: tuned.json }).status).toBe(0);
    expect(fixture.hostLink(fixture.device)).toMatchObject({ mtu: fixture.mtu, address: fixture.mac });
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
  });
});
