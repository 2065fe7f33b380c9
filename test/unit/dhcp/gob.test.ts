import { describe, expect, it } from "vitest";
import { GobDecoder, GobEncoder, GobError, nextMessage, type GobValue } from "../../../lib/dhcp/rpc/gob.ts";
import { cmdArgsFromGob, cmdArgsToGob, cmdArgsType, emptyType, requestType, resultFromGob, resultToGob, resultType } from "../../../lib/dhcp/rpc/types.ts";
import { splitCode, withCode } from "../../../lib/dhcp/rpc/error-text.ts";

/**
 * Bytes Go's net/rpc writes (printed by test/interop/gob-fixtures/main.go with Debian's CNI
 * library): a DHCP.Allocate call as the reference plugin sends it, and the reference daemon's
 * answers, a result and a failure.
 */
const GO_CALL =
  "2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c000103536571010600000012ff82010d444843502e416c6c6f63617465005aff8303010107436d644172677301ff84000106010b436f6e7461696e65724944010c0001054e65746e73010c00010649664e616d65010c00010441726773010c00010450617468010c000109537464696e44617461010a00000048ff8401026331010c2f72756e2f6e65746e732f78010465746830010f49676e6f7265556e6b6e6f776e3d31010c2f6f70742f636e692f62696e010c7b226e616d65223a226e227d00";
const GO_ANSWER =
  "3aff8503010108526573706f6e736501ff86000103010d536572766963654d6574686f64010c00010353657101060001054572726f72010c00000012ff86010d444843502e416c6c6f636174650051ff8703010106526573756c7401ff88000105010a434e4956657273696f6e010c00010a496e746572666163657301ff8c00010349507301ff92000106526f7574657301ff96000103444e5301ff9800000024ff8b020101155b5d2a74797065733130302e496e7465726661636501ff8c0001ff8a000029ff89030102ff8a00010301044e616d65010c0001034d6163010c00010753616e64626f78010c00000023ff91020101145b5d2a74797065733130302e4950436f6e66696701ff920001ff8e000033ff8d030102ff8e0001030109496e7465726661636501040001074164647265737301ff9000010747617465776179010a00000023ff8f0301010549504e657401ff9000010201024950010a0001044d61736b010a0000001dff950201010e5b5d2a74797065732e526f75746501ff960001ff9400001cff93030102ff94000102010344737401ff900001024757010a00000046ff9703010103444e5301ff98000104010b4e616d657365727665727301ff9a000106446f6d61696e010c00010653656172636801ff9a0001074f7074696f6e7301ff9a00000016ff99020101085b5d737472696e6701ff9a00010c000060ff8803010201040a0102030104ffffff0000011000000000000000000000ffff0a0102010001020101040000000001040000000000011000000000000000000000ffff0a010201000101040a0900000104ffff00000001040000000000010000";
const GO_FAILURE =
  "3aff8503010108526573706f6e736501ff86000103010d536572766963654d6574686f64010c00010353657101060001054572726f72010c00000022ff86010d444843502e416c6c6f63617465020e6e6f204448435020616e73776572000aff9b030102ff9c00000003ff9c00";

/** Decodes a whole stream into its values. */
function values(hex: string | Uint8Array): GobValue[] {
  let buffer = typeof hex === "string" ? Uint8Array.from(Buffer.from(hex, "hex")) : hex;
  const decoder = new GobDecoder();
  const out: GobValue[] = [];
  for (let next = nextMessage(buffer, 1 << 20); next; next = nextMessage(buffer, 1 << 20)) {
    buffer = next.rest;
    const decoded = decoder.decodeMessage(next.message);
    if (decoded) out.push(decoded.value);
  }
  expect(buffer.length).toBe(0);
  return out;
}

describe("gob, against what Go writes", () => {
  it("reads the reference plugin's DHCP.Allocate call", () => {
    const [header, args] = values(GO_CALL);
    expect(header).toEqual({ ServiceMethod: "DHCP.Allocate" });
    expect(cmdArgsFromGob(args!)).toEqual({
      containerId: "c1",
      netns: "/run/netns/x",
      ifname: "eth0",
      args: "IgnoreUnknown=1",
      path: "/opt/cni/bin",
      stdin: new TextEncoder().encode('{"name":"n"}'),
    });
  });

  it("reads the reference daemon's result: addresses as bytes, masks as prefix lengths, an on-link gateway of 0.0.0.0", () => {
    const [header, result] = values(GO_ANSWER);
    expect(header).toEqual({ ServiceMethod: "DHCP.Allocate" });
    expect(resultFromGob(result!)).toEqual({
      ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1" }],
      routes: [
        { dst: "0.0.0.0/0", gw: "10.1.2.1" },
        { dst: "10.9.0.0/16", gw: "0.0.0.0" },
      ],
    });
  });

  it("reads a failed call's error text and empty body", () => {
    const [header, body] = values(GO_FAILURE);
    expect(header).toEqual({ ServiceMethod: "DHCP.Allocate", Error: "no DHCP answer" });
    expect(body).toEqual({});
  });
});

describe("gob, what we write", () => {
  it("a call Go's types read back field by field", () => {
    const encoder = new GobEncoder();
    const args = { containerId: "c1", netns: "/run/netns/x", ifname: "eth0", args: "", path: "/opt/cni/bin", stdin: Uint8Array.of(123, 125) };
    const stream = Uint8Array.from([...encoder.encode(requestType, { ServiceMethod: "DHCP.Release", Seq: 0 }), ...encoder.encode(cmdArgsType, cmdArgsToGob(args))]);
    const [header, body] = values(stream);
    expect(header).toEqual({ ServiceMethod: "DHCP.Release" });
    expect(cmdArgsFromGob(body!)).toEqual(args);
  });

  it("sends each type's definition once per stream", () => {
    const encoder = new GobEncoder();
    const first = encoder.encode(resultType, resultToGob({ ips: [{ address: "10.1.2.3/24" }] }));
    const second = encoder.encode(resultType, resultToGob({ ips: [{ address: "10.1.2.4/24" }] }));
    expect(second.length).toBeLessThan(first.length / 4);
    const [a, b] = values(Uint8Array.from([...first, ...second]));
    expect(resultFromGob(a!).ips).toEqual([{ address: "10.1.2.3/24" }]);
    expect(resultFromGob(b!).ips).toEqual([{ address: "10.1.2.4/24" }]);
  });

  it("a result with every CNI 1.1 route key, IPv6 and DNS", () => {
    const result = {
      ips: [{ address: "fd00::5/64", gateway: "fd00::1", interface: 2 }],
      routes: [{ dst: "0.0.0.0/0", gw: "10.1.2.1", mtu: 1400, advmss: 1360, priority: 100, table: 7, scope: 253 }],
      dns: { nameservers: ["10.1.2.53"], domain: "d.test", search: ["d.test"], options: ["ndots:1"] },
    };
    expect(resultFromGob(values(new GobEncoder().encode(resultType, resultToGob(result)))[0]!)).toEqual(result);
  });

  it("an empty struct, as a failed call's body", () => {
    expect(values(new GobEncoder().encode(emptyType, {}))).toEqual([{}]);
  });
});

describe("gob refuses bad input", () => {
  const decode = (bytes: number[]) => new GobDecoder().decodeMessage(Uint8Array.from(bytes));
  it("a value of a type never defined", () => {
    expect(() => decode([0xff, 0x82, 0x00])).toThrow("never defined");
  });
  it("a string longer than the message", () => {
    expect(() => decode([0x0c, 0x00, 0x7f, 0x61])).toThrow("exceeds");
  });
  it("an integer of more than 8 bytes", () => {
    expect(() => decode([0x04, 0x00, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])).toThrow("at most 8");
  });
  it("a redefinition of a type id, and a definition of a reserved one", () => {
    // struct E {} as type 65: -65, wireType{StructT: {CommonType{Name: "E", Id: 65}}}
    const defineE = [0xff, 0x81, 0x03, 0x01, 0x01, 0x01, 0x45, 0x01, 0xff, 0x82, 0x00, 0x00, 0x00];
    const decoder = new GobDecoder();
    expect(decoder.decodeMessage(Uint8Array.from(defineE))).toBeUndefined();
    expect(decoder.decodeMessage(Uint8Array.of(0xff, 0x82, 0x00))).toEqual({ typeId: 65, value: {} });
    expect(() => decoder.decodeMessage(Uint8Array.from(defineE))).toThrow("defined twice");
    expect(() => decode([0x13, 0x03, 0x01, 0x01, 0x01, 0x45, 0x01, 0x14, 0x00, 0x00, 0x00])).toThrow("reserved");
  });
  it("a message longer than the limit, before reading it", () => {
    expect(() => nextMessage(Uint8Array.of(0xfc, 0x10, 0x00, 0x00, 0x00), 1 << 20)).toThrow("at most");
  });
  it("leftover bytes after a value", () => {
    expect(() => decode([0x0c, 0x00, 0x01, 0x61, 0x62])).toThrow("left over");
  });
});

describe("the CNI code in our daemon's error texts", () => {
  it("rides at the end and comes off again", () => {
    expect(splitCode(withCode("no DHCP lease for eth0", 11))).toEqual({ message: "no DHCP lease for eth0", code: 11 });
    expect(splitCode("the reference daemon says no")).toEqual({ message: "the reference daemon says no", code: undefined });
  });
});
