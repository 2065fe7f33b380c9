import { describe, expect, it } from "vitest";
import { TC_H_INGRESS, TC_H_ROOT } from "../../../lib/netlink/constants.ts";
import { decodeFilter } from "../../../lib/tc/filter.ts";
import { formatHandle, makeHandle } from "../../../lib/tc/handle.ts";
import { INGRESS_HANDLE, decodeQdisc } from "../../../lib/tc/qdisc.ts";
import { dumpedObjects } from "./fixtures.ts";

const VV = 2;
const IFB = 3;

describe("qdisc dumps", () => {
  it("decode tbf qdiscs with rate, buffer and limit, the ingress qdisc and others by kind (scene built by tc)", () => {
    expect(dumpedObjects("tc-qdiscs-dump").map(decodeQdisc)).toEqual([
      { index: VV, kind: "tbf", handle: makeHandle(1, 0), parent: TC_H_ROOT, tbf: { rate: 2_500_000, buffer: 312_500, limit: 112_500 } },
      { index: VV, kind: "ingress", handle: INGRESS_HANDLE, parent: TC_H_INGRESS },
      // 40 Gbit/s does not fit the 32-bit rate: the kernel adds TCA_TBF_RATE64.
      { index: IFB, kind: "tbf", handle: makeHandle(1, 0), parent: TC_H_ROOT, tbf: { rate: 5_000_000_000, buffer: 3124, limit: 26_000_000 } },
      // pfifo_fast's options are a bare struct, not attributes: left undecoded.
      { index: 4, kind: "pfifo_fast", handle: 0, parent: TC_H_ROOT },
    ]);
  });

  it("decode the qdiscs the reference plugin made", () => {
    expect(dumpedObjects("reference-qdiscs-dump").map(decodeQdisc)).toEqual([
      { index: VV, kind: "tbf", handle: makeHandle(1, 0), parent: TC_H_ROOT, tbf: { rate: 2_500_000, buffer: 312_500, limit: 112_500 } },
      { index: VV, kind: "ingress", handle: INGRESS_HANDLE, parent: TC_H_INGRESS },
      { index: IFB, kind: "tbf", handle: makeHandle(1, 0), parent: TC_H_ROOT, tbf: { rate: 3_750_000, buffer: 260_406, limit: 156_250 } },
    ]);
  });
});

describe("filter dumps", () => {
  const [table, hashTable, node] = dumpedObjects("tc-filters-dump").map(decodeFilter);

  it("list a u32 filter as its table, its hash table 800: and its node 800::800", () => {
    const common = { index: VV, parent: INGRESS_HANDLE, priority: 1, protocol: 3, kind: "u32" };
    expect(table).toEqual({ ...common, handle: 0 });
    expect(hashTable).toEqual({ ...common, handle: 0x80000000 });
    expect(node).toMatchObject({ ...common, handle: 0x80000800 });
  });

  it("decode the node's match-all key, class id and mirred redirect target", () => {
    expect(node!.u32).toEqual({
      classId: makeHandle(1, 1),
      keys: [{ mask: 0, value: 0, offset: 0 }],
      actions: [{ order: 1, kind: "mirred", mirred: { direction: "egress", mode: "redirect", ifindex: IFB, verdict: 4 } }],
    });
  });

  it("decode both mirred actions of the reference's filter", () => {
    const referenceNode = dumpedObjects("reference-filters-dump").map(decodeFilter)[2]!;
    expect(referenceNode.u32!.actions.map((action) => action.mirred)).toEqual([
      { direction: "egress", mode: "redirect", ifindex: IFB, verdict: 4 },
      { direction: "egress", mode: "redirect", ifindex: IFB, verdict: 0 },
    ]);
  });
});

describe("handles", () => {
  it("print as tc prints them", () => {
    expect([makeHandle(1, 0), INGRESS_HANDLE, makeHandle(1, 1), TC_H_ROOT, TC_H_INGRESS].map(formatHandle)).toEqual([
      "1:",
      "ffff:",
      "1:1",
      "root",
      "ingress",
    ]);
  });
});
