/** Byte-buffer plumbing shared by the codecs: host byte order, alignment, concatenation. */

/** Netlink carries most numbers in the host's byte order; DataView needs to be told which that is. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Netlink headers and attributes are padded to 4 bytes (NLMSG_ALIGN, NLA_ALIGN). */
export function align4(length: number): number {
  return (length + 3) & ~3;
}

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Text up to the first NUL (the kernel's strings are NUL-terminated, sometimes padded). */
export function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
}
