import { describe, expect, it } from "vitest";
import { clientIdentifier } from "../../../lib/dhcp/client.ts";
import { buildFrame, parseFrame, BROADCAST_IP, BROADCAST_MAC } from "../../../lib/dhcp/frame.ts";
import { parseClasslessRoutes, readLeaseTerms, UnusableLease } from "../../../lib/dhcp/lease-terms.ts";
import { BOOTREPLY, decodeMessage, DhcpOptions, DhcpParseError, encodeMessage, UNSPECIFIED, type DhcpMessage } from "../../../lib/dhcp/message.ts";
import { Option, parseOptionName } from "../../../lib/dhcp/options.ts";
import { IPAddress } from "../../../lib/ip/index.ts";

const MAC = Uint8Array.of(0x02, 0x42, 0xac, 0x11, 0x00, 0x02);
const ip = (text: string) => IPAddress.parse(text);
const u32 = (value: number) => Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);

function ack(options: [number, Uint8Array][], yiaddr = "10.5.0.23"): DhcpMessage {
  return {
    op: BOOTREPLY,
    xid: 0x01020304,
    secs: 0,
    flags: 0,
    ciaddr: UNSPECIFIED,
    yiaddr: ip(yiaddr),
    siaddr: UNSPECIFIED,
    giaddr: UNSPECIFIED,
    chaddr: MAC,
    options: DhcpOptions.of([[Option.MessageType, Uint8Array.of(5)], ...options]),
  };
}

describe("DHCP message codec", () => {
  it("encodes the BOOTP header, the magic cookie and the options, padded to 300 bytes", () => {
    const bytes = encodeMessage({ ...ack([[Option.SubnetMask, ip("255.255.255.0").toBytes()]]), op: 1 });
    expect(bytes.length).toBe(300);
    expect([...bytes.subarray(0, 4)]).toEqual([1, 1, 6, 0]);
    expect([...bytes.subarray(4, 8)]).toEqual([1, 2, 3, 4]);
    expect([...bytes.subarray(16, 20)]).toEqual([10, 5, 0, 23]);
    expect([...bytes.subarray(28, 34)]).toEqual([...MAC]);
    expect([...bytes.subarray(236, 240)]).toEqual([99, 130, 83, 99]);
    expect([...bytes.subarray(240, 250)]).toEqual([53, 1, 5, 1, 4, 255, 255, 255, 0, 255]);
  });

  it("decodes what it encodes", () => {
    const message = ack([[Option.Router, ip("10.5.0.1").toBytes()], [Option.HostName, new TextEncoder().encode("web")]]);
    const decoded = decodeMessage(encodeMessage(message));
    expect(decoded.xid).toBe(message.xid);
    expect(decoded.yiaddr.toString()).toBe("10.5.0.23");
    expect([...decoded.chaddr]).toEqual([...MAC]);
    expect([...decoded.options].map(([code]) => code)).toEqual([53, 3, 12]);
    expect(new TextDecoder().decode(decoded.options.get(Option.HostName))).toBe("web");
  });

  it("joins an option that appears several times (RFC 3396) and splits long data when encoding", () => {
    const long = new Uint8Array(300).fill(7);
    const decoded = decodeMessage(encodeMessage(ack([[Option.ClasslessStaticRoutes, long]])));
    expect(decoded.options.get(Option.ClasslessStaticRoutes)).toEqual(long);
  });

  it("reads options from the file and sname fields when option 52 says so", () => {
    const bytes = encodeMessage(ack([[Option.Overload, Uint8Array.of(3)]]));
    bytes.set([Option.Router, 4, 10, 5, 0, 1, 255], 108); // file
    bytes.set([Option.HostName, 2, 0x68, 0x69, 255], 44); // sname
    const decoded = decodeMessage(bytes);
    expect(decoded.options.get(Option.Router)).toEqual(Uint8Array.of(10, 5, 0, 1));
    expect(new TextDecoder().decode(decoded.options.get(Option.HostName))).toBe("hi");
  });

  const valid = () => encodeMessage(ack([[Option.SubnetMask, u32(0xffffff00)]]));
  const header = () => valid().subarray(0, 240);
  const changed = (offset: number, value: number) => {
    const bytes = valid();
    bytes[offset] = value;
    return bytes;
  };
  const malformed: [string, () => Uint8Array, string][] = [
    ["a message shorter than the header", () => valid().subarray(0, 200), "shorter than"],
    ["a missing magic cookie", () => changed(236, 0), "magic cookie"],
    ["an op that is neither request nor reply", () => changed(0, 9), "op 9"],
    ["a hardware address length over 16", () => changed(2, 17), "hardware address length"],
    ["an option whose length runs past the end", () => Uint8Array.of(...header(), 1, 200, 0, 0), "claims 200 bytes"],
    ["an option without its length byte", () => Uint8Array.of(...header(), 12), "no length byte"],
    ["an invalid overload value", () => encodeMessage(ack([[Option.Overload, Uint8Array.of(9)]])), "overload"],
  ];
  for (const [what, bytes, reason] of malformed) {
    it(`refuses ${what}`, () => {
      expect(() => decodeMessage(bytes())).toThrow(DhcpParseError);
      expect(() => decodeMessage(bytes())).toThrow(reason);
    });
  }
});

describe("classless static routes (option 121)", () => {
  it("reads destinations of every width with their routers, and on-link routes with scope link", () => {
    const data = Uint8Array.of(
      ...[0, 10, 5, 0, 1], // 0.0.0.0/0 via 10.5.0.1
      ...[16, 192, 168, 10, 5, 0, 254], // 192.168.0.0/16 via 10.5.0.254
      ...[25, 172, 16, 3, 128, 0, 0, 0, 0], // 172.16.3.128/25 on the link
      ...[32, 198, 51, 100, 7, 10, 5, 0, 9], // 198.51.100.7/32 via 10.5.0.9
    );
    expect(parseClasslessRoutes(data)).toEqual([
      { dst: "0.0.0.0/0", gw: "10.5.0.1" },
      { dst: "192.168.0.0/16", gw: "10.5.0.254" },
      { dst: "172.16.3.128/25", gw: "0.0.0.0", scope: 253 },
      { dst: "198.51.100.7/32", gw: "10.5.0.9" },
    ]);
  });

  it("refuses a prefix length over 32 and a route cut short", () => {
    expect(() => parseClasslessRoutes(Uint8Array.of(33, 1, 2, 3, 4, 5, 10, 0, 0, 1))).toThrow("prefix length 33");
    expect(() => parseClasslessRoutes(Uint8Array.of(24, 10, 1, 2, 10, 0))).toThrow("cut off");
  });
});

describe("what a DHCPACK grants", () => {
  const server = ip("10.5.0.1");

  it("takes the address with the mask's prefix, the router as gateway and the lease times", () => {
    const terms = readLeaseTerms(
      ack([
        [Option.SubnetMask, u32(0xffffff00)],
        [Option.Router, Uint8Array.of(10, 5, 0, 1, 10, 5, 0, 2)],
        [Option.ServerIdentifier, server.toBytes()],
        [Option.LeaseTime, u32(600)],
        [Option.RenewalTime, u32(100)],
        [Option.RebindingTime, u32(500)],
      ]),
      UNSPECIFIED,
    );
    expect(terms).toMatchObject({ prefixLength: 24, leaseSeconds: 600, renewSeconds: 100, rebindSeconds: 500 });
    expect(terms.address.toString()).toBe("10.5.0.23");
    expect(terms.router?.toString()).toBe("10.5.0.1");
    expect(terms.server.toString()).toBe("10.5.0.1");
    expect(terms.routes).toEqual([{ dst: "0.0.0.0/0", gw: "10.5.0.1" }]);
  });

  it("prefers classless static routes over the router and static routes options", () => {
    const terms = readLeaseTerms(
      ack([
        [Option.SubnetMask, u32(0xffff0000)],
        [Option.Router, server.toBytes()],
        [Option.StaticRoutes, Uint8Array.of(172, 20, 0, 0, 10, 5, 0, 7)],
        [Option.ClasslessStaticRoutes, Uint8Array.of(8, 10, 10, 5, 0, 254)],
      ]),
      server,
    );
    expect(terms.routes).toEqual([{ dst: "10.0.0.0/8", gw: "10.5.0.254" }]);
    expect(terms.router?.toString()).toBe("10.5.0.1");
  });

  it("reads classful static routes (option 33) before the default route when there is no option 121", () => {
    const terms = readLeaseTerms(ack([[Option.SubnetMask, u32(0xffffff00)], [Option.Router, server.toBytes()], [Option.StaticRoutes, Uint8Array.of(172, 20, 3, 0, 10, 5, 0, 7)]]), server);
    expect(terms.routes).toEqual([{ dst: "172.20.3.0/16", gw: "10.5.0.7" }, { dst: "0.0.0.0/0", gw: "10.5.0.1" }]);
  });

  it("defaults to the reference's times: an hour, renewal at half, rebinding at 85%", () => {
    const terms = readLeaseTerms(ack([[Option.SubnetMask, u32(0xffffff00)]]), server);
    expect(terms).toMatchObject({ leaseSeconds: 3600, renewSeconds: 1800, rebindSeconds: 3060 });
    expect(terms.routes).toEqual([]);
  });

  it("puts times that are out of order back in order", () => {
    const terms = readLeaseTerms(ack([[Option.SubnetMask, u32(0xffffff00)], [Option.LeaseTime, u32(100)], [Option.RenewalTime, u32(90)], [Option.RebindingTime, u32(200)]]), server);
    expect(terms).toMatchObject({ leaseSeconds: 100, renewSeconds: 50, rebindSeconds: 85 });
  });

  it("cannot use an ACK without a subnet mask", () => {
    expect(() => readLeaseTerms(ack([]), server)).toThrow(UnusableLease);
  });

  it("refuses option values of the wrong size and masks that are no prefix", () => {
    expect(() => readLeaseTerms(ack([[Option.SubnetMask, u32(0xff00ff00)]]), server)).toThrow("not a prefix mask");
    expect(() => readLeaseTerms(ack([[Option.SubnetMask, Uint8Array.of(255, 255)]]), server)).toThrow(DhcpParseError);
    expect(() => readLeaseTerms(ack([[Option.SubnetMask, u32(0xffffff00)], [Option.Router, Uint8Array.of(10, 5, 0)]]), server)).toThrow("router (option 3)");
    expect(() => readLeaseTerms(ack([[Option.SubnetMask, u32(0xffffff00)], [Option.LeaseTime, Uint8Array.of(1)]]), server)).toThrow("lease time");
  });
});

describe("the client identifier", () => {
  it("is type 0 followed by container ID, network and interface, as the reference sends it", () => {
    const id = clientIdentifier("abc123", "lan", "eth0");
    expect(id[0]).toBe(0);
    expect(new TextDecoder().decode(id.subarray(1))).toBe("abc123/lan/eth0");
  });

  it("is cut to 254 bytes of text so that it fits one option", () => {
    const id = clientIdentifier("c".repeat(300), "lan", "eth0");
    expect(id.length).toBe(255);
  });
});

describe("option names", () => {
  it("accepts the reference's names and decimal codes, and nothing else", () => {
    expect(parseOptionName("host-name")).toBe(12);
    expect(parseOptionName("routers")).toBe(3);
    expect(parseOptionName("121")).toBe(121);
    expect(parseOptionName("007")).toBe(7);
    expect(parseOptionName("256")).toBeUndefined();
    expect(parseOptionName("hostname")).toBeUndefined();
    expect(parseOptionName("-1")).toBeUndefined();
  });
});

describe("Ethernet/IPv4/UDP frames", () => {
  it("builds a frame the parser reads back, with valid IP and UDP checksums", () => {
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    const frame = buildFrame({ sourceMac: MAC, destinationMac: BROADCAST_MAC, source: UNSPECIFIED, destination: BROADCAST_IP, sourcePort: 68, destinationPort: 67, payload });
    const ipHeader = frame.subarray(14, 34);
    expect(internetChecksum(ipHeader)).toBe(0);
    const parsed = parseFrame(frame)!;
    expect(parsed.destination.toString()).toBe("255.255.255.255");
    expect([parsed.sourcePort, parsed.destinationPort]).toEqual([68, 67]);
    expect([...parsed.payload]).toEqual([...payload]);
  });

  it("skips what is not a whole IPv4 UDP datagram", () => {
    const frame = buildFrame({ sourceMac: MAC, destinationMac: BROADCAST_MAC, source: UNSPECIFIED, destination: BROADCAST_IP, sourcePort: 68, destinationPort: 67, payload: new Uint8Array(40) });
    expect(parseFrame(frame.subarray(0, 50))).toBeUndefined();
    const tcp = frame.slice();
    tcp[14 + 9] = 6;
    expect(parseFrame(tcp)).toBeUndefined();
    const fragment = frame.slice();
    fragment[14 + 6] = 0x20; // more fragments
    expect(parseFrame(fragment)).toBeUndefined();
  });
});

function internetChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += (data[i]! << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
