import { describe, expect, it } from "vitest";
import { NLM_F_DUMP, TC_H_ROOT, TCA_OPTIONS } from "../../../lib/netlink/constants.ts";
import { tcmsg } from "../../../lib/netlink/headers.ts";
import { type Request, decodeBody, encodeRequest, parseMessages } from "../../../lib/netlink/message.ts";
import { TCA_TBF_PARMS, TCA_TBF_RATE64 } from "../../../lib/tc/constants.ts";
import { addRedirectFilterRequest, decodeFilter, dumpFiltersRequest } from "../../../lib/tc/filter.ts";
import { makeHandle } from "../../../lib/tc/handle.ts";
import { INGRESS_HANDLE, addQdiscRequest, deleteQdiscRequest, dumpQdiscsRequest } from "../../../lib/tc/qdisc.ts";
import { tcTbfQopt } from "../../../lib/tc/structs.ts";
import { tbfParameters } from "../../../lib/tc/tbf.ts";
import { readU64 } from "../../../lib/tc/u64.ts";
import { hex } from "../netlink/fixtures.ts";
import { capturedMessage, capturedRequest } from "./fixtures.ts";

/** The psched clock of every kernel since 2.6.24 with high-resolution timers: 1000/64 ticks per µs. */
const clock = { ticksPerMicrosecond: 15.625 };
const VV = 2;
const IFB = 3;
const ROOT_TBF = { handle: makeHandle(1, 0), parent: TC_H_ROOT };
const REDIRECT_TO_IFB = { parent: INGRESS_HANDLE, priority: 1, classId: makeHandle(1, 1), target: IFB };

function expectSameBytes(req: Request, file: "tc" | "reference", name: string): void {
  const { bytes, seq } = capturedRequest(file, name);
  expect(hex(encodeRequest(req, seq))).toBe(hex(bytes));
}

/** The tc_tbf_qopt and options of a captured or encoded tbf request. */
function tbfOptionsOf(bytes: Uint8Array) {
  const { attributes } = decodeBody({ type: 0, flags: 0, seq: 0, pid: 0, payload: bytes.subarray(16) }, tcmsg);
  const options = attributes.nested(TCA_OPTIONS)!;
  return { parms: tcTbfQopt.decode(options.bytes(TCA_TBF_PARMS)!), options };
}

describe("qdisc requests are byte for byte what tc sends", () => {
  it("for `tc qdisc add dev vv handle ffff: ingress`", () => {
    expectSameBytes(addQdiscRequest(VV, { kind: "ingress" }), "tc", "qdisc-ingress");
  });

  it("for `tc qdisc del dev vv ingress`", () => {
    expectSameBytes(deleteQdiscRequest(VV, "ingress"), "tc", "qdisc-del-ingress");
  });

  it("for `tc qdisc del dev vv root`", () => {
    expectSameBytes(deleteQdiscRequest(VV, "root"), "tc", "qdisc-del-root");
  });

  it("for `tc qdisc show dev vv` (the socket adds NLM_F_DUMP)", () => {
    const req = dumpQdiscsRequest(VV);
    expectSameBytes({ ...req, flags: req.flags | NLM_F_DUMP }, "tc", "qdisc-show");
  });
});

describe("filter requests are byte for byte what tc sends", () => {
  it("for a u32 match-all filter with classid 1:1 redirecting to the ifb's egress", () => {
    expectSameBytes(addRedirectFilterRequest(VV, REDIRECT_TO_IFB), "tc", "filter-redirect");
  });

  it("for `tc filter show dev vv parent ffff:`", () => {
    const req = dumpFiltersRequest(VV, INGRESS_HANDLE);
    expectSameBytes({ ...req, flags: req.flags | NLM_F_DUMP }, "tc", "filter-show");
  });
});

describe("tbf requests", () => {
  it("are byte for byte what the reference plugin sends for 20 Mbit/s with a 400000-bit burst", () => {
    const tbf = tbfParameters({ rateBytes: 2_500_000, burstBytes: 50_000, latencyUs: 25_000 }, clock);
    expectSameBytes(addQdiscRequest(VV, { kind: "tbf", ...ROOT_TBF, tbf }), "reference", "tbf-host");
  });

  it("are byte for byte what the reference plugin sends for the ifb at 30 Mbit/s with a 500000-bit burst", () => {
    const tbf = tbfParameters({ rateBytes: 3_750_000, burstBytes: 62_500, latencyUs: 25_000 }, clock);
    expectSameBytes(addQdiscRequest(IFB, { kind: "tbf", ...ROOT_TBF, tbf }), "reference", "tbf-ifb");
  });

  it("carry the rate, limit and buffer tc computes for the same rate, burst and limit", () => {
    // tc also sends a link layer, a rate table and TCA_TBF_BURST; with TCA_TBF_BURST the kernel
    // recomputes the buffer from the burst in nanoseconds, which can differ from the ticks sent
    // (and compared by CHECK), so lib/tc sends what the reference sends.
    const tbf = tbfParameters({ rateBytes: 2_500_000, burstBytes: 50_000, latencyUs: 25_000 }, clock);
    const ours = tbfOptionsOf(encodeRequest(addQdiscRequest(VV, { kind: "tbf", ...ROOT_TBF, tbf }), 1)).parms;
    const tcs = tbfOptionsOf(capturedRequest("tc", "qdisc-tbf").bytes).parms;
    expect({ rate: ours.rate, limit: ours.limit, buffer: ours.buffer }).toEqual({ rate: tcs.rate, limit: tcs.limit, buffer: tcs.buffer });
  });

  it("put rates of 2^32 bytes/s and more in TCA_TBF_RATE64 and saturate the 32-bit rate, as tc does", () => {
    const tbf = { rate: 5_000_000_000, buffer: 3125, limit: 26_000_000 };
    const ours = tbfOptionsOf(encodeRequest(addQdiscRequest(IFB, { kind: "tbf", ...ROOT_TBF, tbf }), 1));
    const tcs = tbfOptionsOf(capturedRequest("tc", "qdisc-tbf-rate64").bytes);
    expect(ours.parms.rate).toBe(tcs.parms.rate);
    expect(readU64(ours.options.bytes(TCA_TBF_RATE64)!)).toBe(readU64(tcs.options.bytes(TCA_TBF_RATE64)!));
    expect(readU64(ours.options.bytes(TCA_TBF_RATE64)!)).toBe(5_000_000_000);
  });

  it("leave TCA_TBF_RATE64 out below 2^32 bytes/s", () => {
    const tbf = { rate: 2 ** 32 - 1, buffer: 1, limit: 1 };
    const { options } = tbfOptionsOf(encodeRequest(addQdiscRequest(IFB, { kind: "tbf", ...ROOT_TBF, tbf }), 1));
    expect(options.has(TCA_TBF_RATE64)).toBe(false);
  });
});

describe("the reference plugin's redirect filter", () => {
  it("has our redirect as its first action, and a second mirred action that never runs", () => {
    const reference = decodeFilter(capturedMessage("reference", "filter"));
    const ours = decodeFilter(parseMessages(encodeRequest(addRedirectFilterRequest(VV, REDIRECT_TO_IFB), 1))[0]!);
    expect(reference.u32!.actions[0]).toEqual(ours.u32!.actions[0]);
    expect({ ...reference, u32: { ...reference.u32, actions: [] } }).toEqual({ ...ours, u32: { ...ours.u32, actions: [] } });
    // The first action's verdict is "stolen": the packet is gone, the chain ends there.
    expect(reference.u32!.actions[0]!.mirred!.verdict).toBe(4);
    expect(reference.u32!.actions[1]!.mirred).toEqual({ direction: "egress", mode: "redirect", ifindex: IFB, verdict: 0 });
  });
});

