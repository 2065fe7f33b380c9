/**
 * The DHCPv4 client's exchanges (RFC 2131 section 4.4) on a container's interface: acquiring a
 * lease (DISCOVER, OFFER, REQUEST, ACK), renewing it with its server, rebinding it with any
 * server, and releasing it. Each exchange opens the interface, talks through a packet socket and
 * closes it again. Replies that are not for us are skipped; replies that are for us but do not
 * parse are skipped too, counted, and named in the error if no good reply ever comes.
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Cidr, IPAddress } from "../ip/index.ts";
import type { DhcpRequestSettings } from "./config.ts";
import { BROADCAST_IP, BROADCAST_MAC, buildFrame, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, parseFrame } from "./frame.ts";
import { readLeaseTerms, messageTypeOf, serverIdOf, UnusableLease, type LeaseTerms } from "./lease-terms.ts";
import { OpenedInterface, type LeaseTarget } from "./link.ts";
import { BOOTREPLY, BOOTREQUEST, decodeMessage, DhcpOptions, DhcpParseError, encodeMessage, FLAG_BROADCAST, UNSPECIFIED, type DhcpMessage } from "./message.ts";
import { MessageType, messageTypeName, Option } from "./options.ts";

/** The daemon's flags that shape every exchange. */
export interface ClientSettings {
  /** How long to wait for the reply to one transmission (-timeout). */
  timeoutMs: number;
  /** The longest pause between retransmissions (-resendmax). */
  resendMaxMs: number;
  /** How long acquiring a lease may take in all (-resendtimeout). */
  resendTimeoutMs: number;
  /** Ask servers to broadcast their replies (-broadcast). */
  broadcast: boolean;
}

/** Who asks: the client identifier and the configured options. */
export interface ClientIdentity {
  /** Option 61's data: type 0 and the text "<container ID>/<network>/<ifname>", as the reference. */
  clientId: Uint8Array;
  settings: DhcpRequestSettings;
}

/** A lease the server granted, and what renewing and releasing it need. */
export interface Binding {
  terms: LeaseTerms;
  /** The hardware address the server's DHCPACK came from: unicast renewals and releases go there. */
  serverMac: Uint8Array;
  /** When the request that got this lease was sent (Date.now()): the lease's times count from it. */
  since: number;
}

/** The server said no (DHCPNAK). */
export class LeaseRefused extends Error {
  constructor(server: string, text: string | undefined) {
    super(`the DHCP server ${server} refused the lease (DHCPNAK${text ? `: ${text}` : ""})`);
    this.name = "LeaseRefused";
  }
}

/** No usable reply came in time. */
export class NoAnswer extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoAnswer";
  }
}

/** The reference's retransmission pauses: 2 s four times, then 4 s doubling up to -resendmax, each ±1 s. */
function pauseBefore(retransmission: number, resendMaxMs: number): number {
  const base = retransmission <= 4 ? 2000 : Math.min(4000 * 2 ** (retransmission - 5), resendMaxMs);
  return Math.max(0, base + randomInt(-1000, 1000));
}

/** How long a link that was just set up gets to come up before the first DHCPDISCOVER. */
const LINK_UP_WAIT_MS = 5000;
const DHCP_CLIENT_ID_TYPE = 0;
const MAX_CLIENT_ID_BYTES = 254;

/** The reference's client identifier: "<container ID>/<network>/<ifname>", cut to 254 bytes, type 0. */
export function clientIdentifier(containerId: string, network: string, ifname: string): Uint8Array {
  const text = new TextEncoder().encode(`${containerId}/${network}/${ifname}`).subarray(0, MAX_CLIENT_ID_BYTES);
  return Uint8Array.of(DHCP_CLIENT_ID_TYPE, ...text);
}

/** The outcome of asking: a reply we wanted, or nothing until the deadline. Counts what was skipped. */
interface Asked<T> {
  reply: T | undefined;
  transmissions: number;
  malformed: string[];
}

/** One transaction on an opened interface: sends, retransmits and waits for a matching reply. */
class Transaction {
  readonly xid = randomInt(0, 0x1_0000_0000);
  private readonly started = Date.now();

  constructor(
    private readonly iface: OpenedInterface,
    private readonly client: ClientSettings,
    private readonly signal: AbortSignal,
  ) {}

  /** Seconds since the transaction began, for the secs field. */
  get secs(): number {
    return Math.min(0xffff, Math.floor((Date.now() - this.started) / 1000));
  }

  async ask<T>(send: () => void, accept: (reply: DhcpMessage, sourceMac: Uint8Array) => T | undefined, deadline: number): Promise<Asked<T>> {
    const malformed: string[] = [];
    let transmissions = 0;
    while (Date.now() < deadline && !this.signal.aborted) {
      send();
      transmissions++;
      const waitUntil = Math.min(deadline, Date.now() + this.client.timeoutMs + pauseBefore(transmissions, this.client.resendMaxMs));
      const reply = await this.iface.socket.receive((frame) => this.match(frame, accept, malformed), waitUntil, this.signal);
      if (reply !== undefined) return { reply, transmissions, malformed };
    }
    return { reply: undefined, transmissions, malformed };
  }

  private match<T>(frame: Uint8Array, accept: (reply: DhcpMessage, sourceMac: Uint8Array) => T | undefined, malformed: string[]): T | undefined {
    const datagram = parseFrame(frame);
    if (!datagram || datagram.destinationPort !== DHCP_CLIENT_PORT || datagram.sourcePort !== DHCP_SERVER_PORT) return undefined;
    let message: DhcpMessage;
    try {
      message = decodeMessage(datagram.payload);
    } catch (error) {
      if (!(error instanceof DhcpParseError)) throw error;
      // Unparsable: cannot tell whose it is, so it counts only if the xid bytes are ours.
      if (datagram.payload.length >= 8 && new DataView(datagram.payload.buffer, datagram.payload.byteOffset).getUint32(4) === this.xid) {
        malformed.push(`from ${datagram.source}: ${error.message}`);
      }
      return undefined;
    }
    if (message.op !== BOOTREPLY || message.xid !== this.xid || !sameBytes(message.chaddr, this.iface.mac)) return undefined;
    try {
      return accept(message, datagram.sourceMac);
    } catch (error) {
      if (!(error instanceof DhcpParseError)) throw error;
      malformed.push(`from ${datagram.source}: ${error.message}`);
      return undefined;
    }
  }

  /** A BOOTREQUEST of `type` from this client, with the protocol's options set last. */
  message(type: number, identity: ClientIdentity, fields: { ciaddr?: IPAddress; options?: [number, Uint8Array][]; withParameters?: boolean }): Uint8Array {
    // The message type goes first and is set again last, so no provided option can replace it.
    const options = new DhcpOptions();
    options.set(Option.MessageType, Uint8Array.of(type));
    options.set(Option.ClientIdentifier, identity.clientId);
    if (fields.withParameters !== false) {
      for (const [code, data] of identity.settings.provide) options.set(code, data);
      if (identity.settings.request.length > 0) options.set(Option.ParameterRequestList, Uint8Array.from(identity.settings.request));
    }
    for (const [code, data] of fields.options ?? []) options.set(code, data);
    options.set(Option.MessageType, Uint8Array.of(type));
    return encodeMessage({
      op: BOOTREQUEST,
      xid: this.xid,
      secs: this.secs,
      flags: this.client.broadcast && !fields.ciaddr ? FLAG_BROADCAST : 0,
      ciaddr: fields.ciaddr ?? UNSPECIFIED,
      yiaddr: UNSPECIFIED,
      siaddr: UNSPECIFIED,
      giaddr: UNSPECIFIED,
      chaddr: this.iface.mac,
      options,
    });
  }

  broadcast(payload: Uint8Array, source: IPAddress = UNSPECIFIED): void {
    this.iface.socket.send(buildFrame({ sourceMac: this.iface.mac, destinationMac: BROADCAST_MAC, source, destination: BROADCAST_IP, sourcePort: DHCP_CLIENT_PORT, destinationPort: DHCP_SERVER_PORT, payload }));
  }

  unicast(payload: Uint8Array, source: IPAddress, server: IPAddress, serverMac: Uint8Array): void {
    this.iface.socket.send(buildFrame({ sourceMac: this.iface.mac, destinationMac: serverMac, source, destination: server, sourcePort: DHCP_CLIENT_PORT, destinationPort: DHCP_SERVER_PORT, payload }));
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

function nakText(reply: DhcpMessage): string | undefined {
  const text = reply.options.get(Option.Message);
  return text ? new TextDecoder().decode(text).slice(0, 200) : undefined;
}

function describeSkipped(malformed: string[]): string {
  if (malformed.length === 0) return "";
  return `; ${malformed.length} malformed ${malformed.length === 1 ? "reply was" : "replies were"} ignored, the last ${malformed.at(-1)}`;
}

/** An OFFER of an address, from a server that names itself (option 54, which REQUEST must echo). */
function acceptOffer(reply: DhcpMessage): { offer: DhcpMessage; server: IPAddress } | undefined {
  if (messageTypeOf(reply) !== MessageType.Offer || reply.yiaddr.value === 0n) return undefined;
  const server = serverIdOf(reply);
  if (!server) throw new DhcpParseError(`a DHCPOFFER of ${reply.yiaddr} without a server identifier (option 54)`);
  return { offer: reply, server };
}

type RequestAnswer =
  | { kind: "ack"; terms: LeaseTerms; sourceMac: Uint8Array }
  | { kind: "nak"; reply: DhcpMessage }
  | { kind: "unusable"; error: UnusableLease; sourceMac: Uint8Array };

/** The chosen server's ACK (read into lease terms: a malformed one is skipped) or NAK to our REQUEST. */
function acceptAck(reply: DhcpMessage, sourceMac: Uint8Array, offered: IPAddress, server: IPAddress): RequestAnswer | undefined {
  const type = messageTypeOf(reply);
  const from = serverIdOf(reply);
  if (from && !from.equals(server)) return undefined; // another server's answer to our broadcast
  if (type === MessageType.Nak) return { kind: "nak", reply };
  if (type !== MessageType.Ack || !reply.yiaddr.equals(offered)) return undefined;
  try {
    return { kind: "ack", terms: readLeaseTerms(reply, server), sourceMac };
  } catch (error) {
    if (error instanceof UnusableLease) return { kind: "unusable", error, sourceMac };
    throw error;
  }
}

/**
 * Gets a lease: DISCOVER until an OFFER, REQUEST it until the ACK, starting over after a NAK or
 * a REQUEST nobody answers, all within -resendtimeout. Throws NoAnswer, or UnusableLease (after
 * releasing what the server granted) when the ACK lacks what a CNI result needs. Malformed
 * replies, offers without a server identifier among them, are skipped and counted.
 */
export async function acquire(target: LeaseTarget, identity: ClientIdentity, client: ClientSettings, signal: AbortSignal): Promise<Binding> {
  const deadline = Date.now() + client.resendTimeoutMs;
  const iface = OpenedInterface.open(target, { bringUp: true });
  try {
    await iface.waitUntilRunning(Math.min(LINK_UP_WAIT_MS, client.resendTimeoutMs));
    let refusal: LeaseRefused | undefined;
    let discovers = 0;
    const malformed: string[] = [];
    while (Date.now() < deadline && !signal.aborted) {
      const transaction = new Transaction(iface, client, signal);
      const discover = () => transaction.broadcast(transaction.message(MessageType.Discover, identity, {}));
      const offered = await transaction.ask(discover, acceptOffer, deadline);
      discovers += offered.transmissions;
      malformed.push(...offered.malformed);
      if (!offered.reply) break;
      const { offer, server } = offered.reply;

      let since = Date.now();
      const request = () => {
        since = Date.now();
        transaction.broadcast(transaction.message(MessageType.Request, identity, { options: [[Option.RequestedAddress, offer.yiaddr.toBytes()], [Option.ServerIdentifier, server.toBytes()]] }));
      };
      const answered = await transaction.ask(request, (reply, sourceMac) => acceptAck(reply, sourceMac, offer.yiaddr, server), Math.min(deadline, Date.now() + client.timeoutMs * 4));
      malformed.push(...answered.malformed);
      const answer = answered.reply;
      if (!answer) continue; // nobody answered the REQUEST: start over
      switch (answer.kind) {
        case "ack":
          return { terms: answer.terms, serverMac: answer.sourceMac, since };
        case "nak":
          refusal = new LeaseRefused(server.toString(), nakText(answer.reply));
          await sleep(Math.min(pauseBefore(1, client.resendMaxMs), Math.max(0, deadline - Date.now())));
          continue;
        case "unusable": {
          // Give back what the server granted: nobody will use it.
          const giveBack = new Transaction(iface, client, signal);
          const payload = giveBack.message(MessageType.Release, identity, { ciaddr: offer.yiaddr, options: [[Option.ServerIdentifier, server.toBytes()]], withParameters: false });
          giveBack.unicast(payload, offer.yiaddr, server, answer.sourceMac);
          throw answer.error;
        }
      }
    }
    if (signal.aborted) throw new NoAnswer(`acquiring a lease on ${target.ifname} was cancelled`);
    const why = refusal ? `; ${refusal.message}` : "";
    throw new NoAnswer(
      `no DHCP lease for ${target.ifname} in ${target.netnsPath} within ${client.resendTimeoutMs / 1000} s (-resendtimeout): ` +
        `${discovers} ${messageTypeName(MessageType.Discover)}${discovers === 1 ? "" : "s"} sent, no usable answer${why}${describeSkipped(malformed)}`,
    );
  } finally {
    iface.close();
  }
}

/** What renewing or rebinding came to. */
export type Extension = { kind: "extended"; binding: Binding } | { kind: "refused"; error: LeaseRefused } | { kind: "unanswered"; detail: string };

/**
 * Extends a lease: RENEWING asks its server by unicast, REBINDING asks any server by broadcast
 * (RFC 2131 4.4.5), retransmitting until `deadline` (T2 for renewing, the end of the lease for
 * rebinding).
 */
export async function extend(
  mode: "renew" | "rebind",
  target: LeaseTarget,
  identity: ClientIdentity,
  binding: Binding,
  deadline: number,
  client: ClientSettings,
  signal: AbortSignal,
): Promise<Extension> {
  const iface = OpenedInterface.open(target, { bringUp: false });
  try {
    const { address, server } = binding.terms;
    const transaction = new Transaction(iface, client, signal);
    let since = Date.now();
    const send = () => {
      since = Date.now();
      const payload = transaction.message(MessageType.Request, identity, { ciaddr: address });
      if (mode === "renew") transaction.unicast(payload, address, server, binding.serverMac);
      else transaction.broadcast(payload, address);
    };
    const asked = await transaction.ask(
      send,
      (reply, sourceMac) => {
        const type = messageTypeOf(reply);
        if (type === MessageType.Nak) return { kind: "refused", error: new LeaseRefused(serverIdOf(reply)?.toString() ?? server.toString(), nakText(reply)) } as const;
        if (type !== MessageType.Ack || !reply.yiaddr.equals(address)) return undefined;
        const from = serverIdOf(reply) ?? server;
        return { kind: "extended", binding: { terms: readLeaseTerms(reply, from), serverMac: sourceMac, since } } as const;
      },
      deadline,
    );
    if (asked.reply) return asked.reply;
    return { kind: "unanswered", detail: `${asked.transmissions} ${messageTypeName(MessageType.Request)}${asked.transmissions === 1 ? "" : "s"} unanswered${describeSkipped(asked.malformed)}` };
  } finally {
    iface.close();
  }
}

/**
 * Sends DHCPRELEASE to the lease's server (no reply comes, and none is waited for), addressed to
 * the server's IP address. With no reply to tell whether it arrived, it must not depend on the
 * server's hardware address being the one its last DHCPACK came from (a Linux bridge's address
 * changes as ports come and go): a server on the lease's own subnet gets it at the Ethernet
 * broadcast address, one beyond a relay through the relay's address, the only one known.
 * Throws InterfaceGone when there is no interface to send from.
 */
export function release(target: LeaseTarget, identity: ClientIdentity, binding: Binding, client: ClientSettings): void {
  const iface = OpenedInterface.open(target, { bringUp: false });
  try {
    const { address, prefixLength, server } = binding.terms;
    const onLink = Cidr.of(address, prefixLength).withoutHostBits().contains(server);
    const transaction = new Transaction(iface, client, new AbortController().signal);
    const payload = transaction.message(MessageType.Release, identity, { ciaddr: address, options: [[Option.ServerIdentifier, server.toBytes()]], withParameters: false });
    transaction.unicast(payload, address, server, onLink ? BROADCAST_MAC : binding.serverMac);
  } finally {
    iface.close();
  }
}
