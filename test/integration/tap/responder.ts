/**
 * A stand-in for a virtual machine behind a tap, run under Bun inside the tap's namespace by
 * traffic.test.ts: `bun responder.ts <tap> <ip> <mac>`. It attaches to the tap (lib/sys
 * attachTap, the bun:ffi backend), answers ARP requests for <ip> with <mac> and ICMP echo
 * requests to <ip> with echo replies, and prints one line per frame it answered.
 */
import { readSync, writeSync } from "node:fs";
import { attachTap } from "../../../lib/sys/index.ts";

const [tap, ip, mac] = process.argv.slice(2) as [string, string, string];
const ipBytes = Uint8Array.from(ip.split(".").map(Number));
const macBytes = Uint8Array.from(mac.split(":").map((part) => parseInt(part, 16)));
const fd = attachTap(tap);
console.log("ready");

const frame = new Uint8Array(65536);
for (;;) {
  const length = readSync(fd, frame);
  const view = new DataView(frame.buffer, 0, length);
  const etherType = view.getUint16(12);
  if (etherType === 0x0806 && view.getUint16(20) === 1 && sameBytes(frame.subarray(38, 42), ipBytes)) {
    writeSync(fd, arpReply(frame.slice(0, 42)));
    console.log(`arp ${Array.from(frame.subarray(28, 32)).join(".")}`);
  } else if (etherType === 0x0800 && frame[23] === 1 && sameBytes(frame.subarray(30, 34), ipBytes)) {
    const headerLength = (frame[14]! & 0x0f) * 4;
    const icmp = 14 + headerLength;
    if (frame[icmp] !== 8) continue;
    writeSync(fd, echoReply(frame.slice(0, length), icmp));
    console.log(`echo ${Array.from(frame.subarray(26, 30)).join(".")}`);
  }
}

function arpReply(request: Uint8Array): Uint8Array {
  const reply = request.slice();
  reply.set(request.subarray(6, 12), 0); // to the asker
  reply.set(macBytes, 6);
  new DataView(reply.buffer).setUint16(20, 2); // reply
  reply.set(macBytes, 22); // sender: us
  reply.set(ipBytes, 28);
  reply.set(request.subarray(22, 32), 32); // target: the asker's MAC and IP
  return reply;
}

/**
 * Swapping addresses leaves the IP checksum as it is (a sum does not care about order); turning
 * type 8 into 0 lowers the ICMP sum by 0x0800, so its complement, the checksum, rises by it.
 */
function echoReply(request: Uint8Array, icmp: number): Uint8Array {
  const reply = request.slice();
  reply.set(request.subarray(6, 12), 0);
  reply.set(macBytes, 6);
  reply.set(request.subarray(30, 34), 26);
  reply.set(request.subarray(26, 30), 30);
  reply[icmp] = 0;
  const view = new DataView(reply.buffer);
  let sum = view.getUint16(icmp + 2) + 0x0800;
  sum = (sum & 0xffff) + (sum >> 16);
  view.setUint16(icmp + 2, sum);
  return reply;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
