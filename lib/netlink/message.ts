import { type AttributeList, AttributeSet, encodeAttributes } from "./attributes.ts";
import { HOST_LITTLE_ENDIAN, align4, concatBytes, dataView } from "./bytes.ts";
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_REQUEST,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MSG,
} from "./constants.ts";
import { nlmsghdr } from "./headers.ts";
import type { FieldType, Struct, StructValues } from "./struct.ts";

/** One netlink message as received: header fields and the payload after nlmsghdr. */
export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Uint8Array;
}

/** A request before it gets its sequence number: type, flags and payload (family header + attributes). */
export interface Request {
  readonly type: number;
  /** NLM_F_* flags besides NLM_F_REQUEST, which every request carries. */
  readonly flags: number;
  readonly payload: Uint8Array;
}

export function request(
  type: number,
  flags: number,
  familyHeader: Uint8Array,
  attributes: AttributeList = [],
): Request {
  return { type, flags, payload: concatBytes([familyHeader, encodeAttributes(attributes)]) };
}

/** The bytes sent to the kernel; port id 0 lets the kernel fill in ours. */
export function encodeRequest(req: Request, seq: number): Uint8Array {
  const header = nlmsghdr.encode({
    len: NLMSG_HDRLEN + req.payload.byteLength,
    type: req.type,
    flags: req.flags | NLM_F_REQUEST,
    seq,
    pid: 0,
  });
  return concatBytes([header, req.payload]);
}

/** A message's family header (ifinfomsg, rtmsg, ...) and the attributes that follow it. */
export function decodeBody<F extends Record<string, FieldType>>(
  message: NetlinkMessage,
  familyHeader: Struct<F>,
): { header: StructValues<F>; attributes: AttributeSet } {
  return {
    header: familyHeader.decode(message.payload),
    attributes: AttributeSet.parse(message.payload.subarray(align4(familyHeader.size))),
  };
}

/** Splits one received datagram into its messages. */
export function parseMessages(datagram: Uint8Array): NetlinkMessage[] {
  const messages: NetlinkMessage[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= datagram.byteLength) {
    const header = nlmsghdr.decode(datagram, offset);
    if (header.len < NLMSG_HDRLEN || offset + header.len > datagram.byteLength) {
      throw new Error(`malformed netlink message (length ${header.len}) at offset ${offset} of ${datagram.byteLength}`);
    }
    messages.push({
      type: header.type,
      flags: header.flags,
      seq: header.seq,
      pid: header.pid,
      payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + header.len),
    });
    offset += align4(header.len);
  }
  return messages;
}

/** The outcome carried by NLMSG_ERROR (errno 0 is an acknowledgement) and NLMSG_DONE. */
export interface Status {
  /** A positive errno, or 0 for success. */
  readonly errno: number;
  /** The kernel's extended-ack message (NETLINK_EXT_ACK), when it gave one. */
  readonly extack?: string;
}

/**
 * NLMSG_ERROR: an int error, the header of the request (the whole request unless NETLINK_CAP_ACK
 * capped it), then extended-ack attributes when NLM_F_ACK_TLVS is set.
 */
export function parseErrorMessage(message: NetlinkMessage): Status {
  const errno = 0 - readErrorCode(message.payload);
  const echoed = message.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : echoedLength(message.payload);
  return withExtack(errno, message, 4 + echoed);
}

/** NLMSG_DONE: an int error (non-zero when the dump failed part way), then optional ext-ack attributes. */
export function parseDoneMessage(message: NetlinkMessage): Status {
  if (message.payload.byteLength < 4) return { errno: 0 };
  return withExtack(0 - readErrorCode(message.payload), message, 4);
}

function readErrorCode(payload: Uint8Array): number {
  if (payload.byteLength < 4) throw new Error("malformed netlink error message: no error code");
  return dataView(payload).getInt32(0, HOST_LITTLE_ENDIAN);
}

function echoedLength(payload: Uint8Array): number {
  if (payload.byteLength < 4 + NLMSG_HDRLEN) return payload.byteLength - 4;
  return align4(nlmsghdr.decode(payload, 4).len);
}

function withExtack(errno: number, message: NetlinkMessage, attributesAt: number): Status {
  if (!(message.flags & NLM_F_ACK_TLVS) || attributesAt >= message.payload.byteLength) return { errno };
  const attributes = AttributeSet.parse(message.payload.subarray(attributesAt));
  const extack = attributes.string(NLMSGERR_ATTR_MSG);
  return extack ? { errno, extack } : { errno };
}
