import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type NetlinkMessage, parseMessages } from "../../../lib/netlink/message.ts";
import { fromHex } from "../netlink/fixtures.ts";

/** Reads the captures in fixtures/ (written by fixtures/capture.ts). */

const directory = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

/** A captured request by name from tc-requests.txt or reference-requests.txt, with its sequence number. */
export function capturedRequest(file: "tc" | "reference", name: string): { bytes: Uint8Array; seq: number } {
  const line = readFileSync(join(directory, `${file}-requests.txt`), "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${name} `));
  if (!line) throw new Error(`no request named ${name} in ${file}-requests.txt`);
  const bytes = fromHex(line.slice(name.length + 1));
  return { bytes, seq: new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true) };
}

/** A captured request as a received message would look, for the decoders. */
export function capturedMessage(file: "tc" | "reference", name: string): NetlinkMessage {
  return parseMessages(capturedRequest(file, name).bytes)[0]!;
}

/** The messages of a kernel dump capture (one per line; NLMSG_DONE is not recorded). */
export function dumpedObjects(name: string): NetlinkMessage[] {
  return readFileSync(join(directory, `${name}.hex`), "utf8")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .flatMap((line) => parseMessages(fromHex(line)));
}
