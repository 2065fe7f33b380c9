/**
 * vlan on this host: its kernel lacks 8021q, so ADD must say so (code 2 naming the module)
 * and leave nothing behind; configuration errors are code 7 before anything is made. The live
 * tests run in a User-Mode Linux guest (test/kernel/vlan.test.ts).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OUR_BIN } from "../../helpers/paths.ts";
import { kernelCanCreate, worldPerTest } from "../macvlan/world.ts";

const world = worldPerTest();

const plugin = join(OUR_BIN, "vlan");

describe("vlan on this host", () => {
  it("answers ADD with code 2 naming the 8021q module on a kernel without it, leaving no link and no lease", (context) => {
    if (kernelCanCreate("vlan")) {
      console.log("this kernel has 8021q: the unsupported-kernel error cannot occur here (the guest tests cover vlan)");
      context.skip();
    }
    const w = world();
    const c = w.container();
    const outcome = w.call(c, "ADD", w.config({ type: "vlan", vlanId: 10 }), { plugin });
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: 2, msg: expect.stringContaining("8021q module") });
    expect(outcome.json.msg).toMatch(/^unsupported field type/);
    expect(w.link(c)).toBeUndefined();
    expect(w.leases()).toEqual([]);
  });

  it.each([
    ["vlanId", { vlanId: 4095 }],
    ["vlanId", { vlanId: -1 }],
    ["vlanId", { vlanId: "10" }],
    ["mtu", { mtu: 9000 }],
    ["master", { master: "mvnosuch0" }],
    ["master", { master: undefined }],
    ["ipam", { ipam: undefined }],
])("answers a bad %s with code 7 naming it, before anything is made", (field, extra) => {
    const w = world();
    const c = w.container();
    const outcome = w.call(c, "ADD", w.config({ type: "vlan", vlanId: 10, ...extra }), { plugin });
    expect(outcome.json.code, outcome.stdout).toBe(7);
    expect(outcome.json.msg).toContain(field);
    expect(w.link(c)).toBeUndefined();
    expect(w.leases()).toEqual([]);
  });

  it("DEL succeeds without the container's namespace, twice", () => {
    const w = world();
    for (let i = 0; i < 2; i++) expect(w.call("", "DEL", w.config({ type: "vlan", vlanId: 10 }), { plugin }).status).toBe(0);
  });
});
