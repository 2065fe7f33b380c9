/**
 * A scripted DHCP server for what dnsmasq will not do: run with Bun inside the LAN namespace,
 * `fake-server.ts <mode> <server address> <address to offer>`. It answers on the bridge's
 * subnet broadcast address and writes one line per event to server.log's place (stdout):
 *
 * - malformed: every DHCPOFFER has an option whose length runs past the end of the message.
 * - no-mask: offers and acknowledges without a subnet mask (option 1).
 * - vanishing: grants a lease of 8 s (renew at 2 s, rebind at 4 s), then never answers again.
 * - nak-on-renew: grants a lease of 60 s (renew at 2 s) and refuses the renewal.
 */
import { createSocket } from "node:dgram";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { IPAddress } from "../../../lib/ip/index.ts";
import { BOOTREPLY, decodeMessage, DhcpOptions, encodeMessage, UNSPECIFIED, type DhcpMessage } from "../../../lib/dhcp/message.ts";
import { MessageType, Option } from "../../../lib/dhcp/options.ts";

const [mode, serverText, offeredText] = process.argv.slice(2) as [string, string, string];
const server = IPAddress.parse(serverText);
const offered = IPAddress.parse(offeredText);
const broadcast = IPAddress.parse(serverText.replace(/\.\d+$/, ".255"));
const logFile = join(process.env.FAKE_SERVER_DIR ?? ".", "server.log");
const u32 = (value: number) => Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
let granted = false;

function event(line: string): void {
  appendFileSync(logFile, `${line}\n`);
}

const socket = createSocket({ type: "udp4", reuseAddr: true });
socket.on("message", (data) => {
  let request: DhcpMessage;
  try {
    request = decodeMessage(new Uint8Array(data));
  } catch {
    return;
  }
  const type = request.options.get(Option.MessageType)?.[0];
  event(`${type === MessageType.Discover ? "DISCOVER" : type === MessageType.Request ? (request.ciaddr.value === 0n ? "REQUEST" : "RENEW-OR-REBIND") : type === MessageType.Release ? "RELEASE" : `TYPE ${type}`} ${request.ciaddr}`);
  if (type === MessageType.Discover) reply(request, MessageType.Offer);
  if (type === MessageType.Request) {
    if (!granted) {
      granted = true;
      reply(request, MessageType.Ack);
    } else if (mode === "nak-on-renew") {
      reply(request, MessageType.Nak);
    }
    // vanishing: silence from now on
  }
});
socket.bind(67, () => {
  socket.setBroadcast(true);
  event("fake server ready");
});

function reply(request: DhcpMessage, type: number): void {
  const lease: [number, Uint8Array][] = mode === "vanishing" ? [[Option.LeaseTime, u32(8)], [Option.RenewalTime, u32(2)], [Option.RebindingTime, u32(4)]] : [[Option.LeaseTime, u32(60)], [Option.RenewalTime, u32(2)], [Option.RebindingTime, u32(50)]];
  const options: [number, Uint8Array][] = [[Option.MessageType, Uint8Array.of(type)], [Option.ServerIdentifier, server.toBytes()]];
  if (type !== MessageType.Nak) {
    if (mode !== "no-mask") options.push([Option.SubnetMask, u32(0xffffff00)]);
    options.push([Option.Router, server.toBytes()], ...lease);
  }
  let bytes = encodeMessage({
    op: BOOTREPLY,
    xid: request.xid,
    secs: 0,
    flags: 0,
    ciaddr: UNSPECIFIED,
    yiaddr: type === MessageType.Nak ? UNSPECIFIED : offered,
    siaddr: server,
    giaddr: UNSPECIFIED,
    chaddr: request.chaddr,
    options: DhcpOptions.of(options),
  });
  if (mode === "malformed" && type === MessageType.Offer) {
    // Cut the message right after an option that claims 200 bytes.
    bytes = Uint8Array.of(...bytes.subarray(0, 240), Option.HostName, 200, 0x61, 0x62);
  }
  socket.send(bytes, 68, broadcast.toString());
  event(`sent ${type === MessageType.Offer ? "OFFER" : type === MessageType.Ack ? "ACK" : "NAK"} of ${offered}`);
}
