/**
 * Bad input to host-device: every key with a wrong type or value is code 7 naming the key and
 * the value (the reference answers most of these with 999 or a Go decoder message), and nothing
 * is moved.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostDeviceFixture, OUR_HOST_DEVICE } from "./harness.ts";

let fixture: HostDeviceFixture;
beforeAll(() => {
  fixture = new HostDeviceFixture();
});
afterAll(() => fixture.remove());

describe("host-device refuses bad configuration with code 7 naming the key", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["device of the wrong type", { device: 5 }, "device"],
    ["hwaddr that is no MAC address", { device: undefined, hwaddr: "02:42:zz:11:00:0a" }, 'hwaddr="02:42:zz:11:00:0a"'],
    ["hwaddr of the wrong type", { hwaddr: ["02:42:ac:11:00:0a"] }, "hwaddr"],
    ["kernelpath outside /sys/devices", { device: undefined, kernelpath: "/etc/passwd" }, 'kernelpath="/etc/passwd"'],
    ["kernelpath climbing out of /sys/devices", { device: undefined, kernelpath: "/sys/devices/../../etc" }, 'kernelpath="/sys/devices/../../etc"'],
    ["pciBusID of the wrong type", { pciBusID: 25 }, "pciBusID"],
    ["pciBusID that is a path", { device: undefined, pciBusID: "../../../etc" }, 'pciBusID="../../../etc"'],
    ["runtimeConfig.deviceID of the wrong type", { runtimeConfig: { deviceID: 3 } }, "runtimeConfig.deviceID"],
    ["DPDKMode of the wrong type", { DPDKMode: "yes" }, "DPDKMode"],
    ["no way to name the device", { device: undefined }, 'device=(missing): name the device with one of "device", "hwaddr", "kernelpath", "pciBusID"'],
    ["an empty device name", { device: "" }, "device"],
  ];
  it.each(cases)("%s", (_what, settings, named) => {
    const outcome = fixture.call(OUR_HOST_DEVICE, "ADD", { ...fixture.config(), ...settings });
    expect(outcome.status).toBe(1);
    expect(outcome.json.code, outcome.stdout).toBe(7);
    expect(outcome.json.msg).toContain(named);
    expect(outcome.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(fixture.containerLinkNames()).toEqual(["lo"]);
    expect(fixture.hostLink(fixture.device)?.ifalias).toBeUndefined();
  });

  it("takes keys in any letter case, as Go's decoder does", () => {
    const config = { cniVersion: "1.0.0", name: "hdnet", type: "host-device", DEVICE: fixture.device };
    const add = fixture.call(OUR_HOST_DEVICE, "ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(fixture.call(OUR_HOST_DEVICE, "DEL", config).status).toBe(0);
    expect(fixture.hostLink(fixture.device)).toBeDefined();
  });
});
