import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { type NetlinkMessage, type Request, encodeRequest, parseMessages } from "../../../lib/netlink/message.ts";

/** Reads the kernel captures in fixtures/ (written by fixtures/capture.ts) and iproute2's requests. */

const directory = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** The datagrams of a capture, in the order the kernel sent them. */
export function datagrams(name: string): Uint8Array[] {
  return readFileSync(join(directory, `${name}.hex`), "utf8")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map(fromHex);
}

/** Every message of a capture, across datagrams. */
export function kernelMessages(name: string): NetlinkMessage[] {
  return datagrams(name).flatMap(parseMessages);
}

/** The message iproute2 sent for one of the commands listed in fixtures/iproute2-requests.txt. */
export function iproute2Request(name: string): { bytes: Uint8Array; seq: number } {
  const line = readFileSync(join(directory, "iproute2-requests.txt"), "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${name} `));
  if (!line) throw new Error(`no iproute2 request named ${name}`);
  const bytes = fromHex(line.slice(name.length + 1));
  return { bytes, seq: new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true) };
}

/** Asserts that our encoding of a request is byte for byte what iproute2 sent (with its sequence number). */
export function expectSameBytesAsIproute2(req: Request, name: string): void {
  const { bytes, seq } = iproute2Request(name);
  expect(hex(encodeRequest(req, seq))).toBe(hex(bytes));
}
