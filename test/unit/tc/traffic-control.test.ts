import { describe, expect, it } from "vitest";
import type { Describe, NetlinkMessage, Request } from "../../../lib/netlink/index.ts";
import { NetlinkError } from "../../../lib/netlink/errors.ts";
import { RTM_DELQDISC, RTM_GETQDISC, RTM_GETTFILTER, RTM_NEWQDISC, RTM_NEWTFILTER, TC_H_ROOT } from "../../../lib/netlink/constants.ts";
import { INGRESS_HANDLE, TrafficControl, makeHandle } from "../../../lib/tc/index.ts";
import { dumpedObjects } from "./fixtures.ts";

/** A socket that answers dumps from a capture and records commands, or refuses them. */
class FakeSocket {
  readonly sent: Request[] = [];
  constructor(
    private readonly dumps: Record<number, NetlinkMessage[]> = {},
    private readonly refusal?: number,
  ) {}

  command(req: Request, describe: Describe): NetlinkMessage[] {
    this.sent.push(req);
    if (this.refusal) throw new NetlinkError(describe(), this.refusal, "Exclusivity flag on, cannot modify.");
    return [];
  }

  dump(req: Request): NetlinkMessage[] {
    this.sent.push(req);
    return this.dumps[req.type] ?? [];
  }
}

const vv = { index: 2, name: "vv" };
const ifb = { index: 3, name: "bwp0123456789ab" };
const tbf = { rate: 2_500_000, buffer: 312_500, limit: 112_500 };

describe("TrafficControl", () => {
  it("keeps only the device's own qdiscs from the kernel's all-device dump", () => {
    const tc = new TrafficControl(new FakeSocket({ [RTM_GETQDISC]: dumpedObjects("tc-qdiscs-dump") }));
    expect(tc.qdiscs(ifb).map((qdisc) => qdisc.index)).toEqual([3]);
    expect(tc.qdiscs(vv).map((qdisc) => qdisc.kind)).toEqual(["tbf", "ingress"]);
  });

  it("lists filters under a parent", () => {
    const socket = new FakeSocket({ [RTM_GETTFILTER]: dumpedObjects("tc-filters-dump") });
    const filters = new TrafficControl(socket).filters(vv, INGRESS_HANDLE);
    expect(filters).toHaveLength(3);
    expect(socket.sent.map((req) => req.type)).toEqual([RTM_GETTFILTER]);
  });

  it("sends one request per change", () => {
    const socket = new FakeSocket();
    const tc = new TrafficControl(socket);
    tc.addQdisc(vv, { kind: "tbf", handle: makeHandle(1, 0), parent: TC_H_ROOT, tbf });
    tc.addQdisc(vv, { kind: "ingress" });
    tc.addRedirectFilter(vv, { parent: INGRESS_HANDLE, priority: 1, classId: makeHandle(1, 1), target: ifb.index });
    tc.deleteQdisc(vv, "ingress");
    expect(socket.sent.map((req) => req.type)).toEqual([RTM_NEWQDISC, RTM_NEWQDISC, RTM_NEWTFILTER, RTM_DELQDISC]);
  });

  it("names the device, the qdisc and its numbers when the kernel refuses", () => {
    const tc = new TrafficControl(new FakeSocket({}, 17));
    expect(() => tc.addQdisc(vv, { kind: "tbf", handle: makeHandle(1, 0), parent: TC_H_ROOT, tbf })).toThrow(
      "add qdisc tbf 1: parent root (rate 2500000 bytes/s, buffer 312500 ticks, limit 112500 bytes) to vv: EEXIST (File exists): Exclusivity flag on, cannot modify.",
    );
    expect(() => tc.addRedirectFilter(vv, { parent: INGRESS_HANDLE, priority: 1, classId: 0, target: 3 })).toThrow(
      /^add filter to vv \(u32 match-all under ffff:, redirect to ifindex 3\): EEXIST/,
    );
    expect(() => tc.deleteQdisc(vv, "root")).toThrow(/^delete root qdisc of vv: EEXIST/);
  });
});
