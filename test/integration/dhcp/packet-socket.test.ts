/**
 * The DHCP client's packet socket, with the system-call backend of the process running the
 * tests (koffi under Node; the compiled daemon uses bun:ffi, which the other dhcp tests
 * exercise): made inside a namespace, bound to one interface, filtered to the DHCP client port.
 */
import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { buildFrame, parseFrame } from "../../../lib/dhcp/frame.ts";
import { PacketSocket } from "../../../lib/dhcp/packet-socket.ts";
import { IPAddress } from "../../../lib/ip/index.ts";
import { Rtnetlink } from "../../../lib/netlink/index.ts";
import { NetNS } from "../../../lib/netns/index.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";

let netns: TestNetns | undefined;
afterEach(() => netns?.remove());

describe("the DHCP client's packet socket", () => {
  it("receives only UDP datagrams to port 68 on its interface, whatever else arrives", async () => {
    netns = createNetns("dhp");
    execFileSync("ip", ["-n", netns.name, "link", "add", "dha", "type", "veth", "peer", "name", "dhb"]);
    execFileSync("ip", ["-n", netns.name, "link", "set", "dha", "up"]);
    execFileSync("ip", ["-n", netns.name, "link", "set", "dhb", "up"]);
    const ns = NetNS.open(netns.path);
    const netlink = Rtnetlink.openIn(ns);
    const [a, b] = ["dha", "dhb"].map((name) => netlink.linkByName(name)!);
    netlink.close();
    const receiver = PacketSocket.open(ns, a!.index);
    const sender = PacketSocket.open(ns, b!.index);
    ns.close();
    try {
      const mac = (text: string) => Uint8Array.from(text.split(":").map((part) => parseInt(part, 16)));
      const frame = (destinationPort: number, payload: number) =>
        buildFrame({
          sourceMac: mac(b!.mac!),
          destinationMac: mac(a!.mac!),
          source: IPAddress.parse("192.0.2.1"),
          destination: IPAddress.parse("192.0.2.2"),
          sourcePort: 67,
          destinationPort,
          payload: Uint8Array.of(payload),
        });
      const tcp = frame(68, 3);
      tcp[14 + 9] = 6;
      const fragment = frame(68, 4);
      fragment[14 + 7] = 8; // fragment offset 64 bytes: not the first fragment
      for (const sent of [frame(69, 1), tcp, fragment, frame(68, 2)]) sender.send(sent);

      const received: number[] = [];
      await receiver.receive((bytes) => void received.push(parseFrame(bytes)!.payload[0]!), Date.now() + 1000);
      expect(received).toEqual([2]);
    } finally {
      receiver.close();
      sender.close();
    }
  });
});
