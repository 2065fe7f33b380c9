import { describe, expect, it } from "vitest";
import { attr } from "../../../lib/netlink/attributes.ts";
import {
  IFLA_IFNAME,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_DELLINK,
  RTM_NEWLINK,
} from "../../../lib/netlink/constants.ts";
import { ifinfomsg } from "../../../lib/netlink/headers.ts";
import {
  encodeRequest,
  parseDoneMessage,
  parseErrorMessage,
  parseMessages,
  request,
} from "../../../lib/netlink/message.ts";
import { datagrams, fromHex, hex, kernelMessages } from "./fixtures.ts";

describe("requests", () => {
  it("get a header with their length, NLM_F_REQUEST, the sequence number and port id 0", () => {
    const req = request(RTM_DELLINK, NLM_F_ACK, ifinfomsg.encode({ index: 4 }));
    expect(hex(encodeRequest(req, 0x6b042079))).toBe(
      "20000000" + "1100" + "0500" + "7920046b" + "00000000" + "00000000040000000000000000000000",
    );
  });

  it("carry their attributes after the family header", () => {
    const req = request(RTM_NEWLINK, 0, ifinfomsg.encode({}), [attr.string(IFLA_IFNAME, "vq")]);
    expect(hex(encodeRequest(req, 1)).slice(64)).toBe("0700030076710000");
  });
});

describe("received datagrams", () => {
  it("split into their messages, a dump ending in NLMSG_DONE", () => {
    const messages = kernelMessages("links-dump");
    expect(messages.filter((m) => m.type === RTM_NEWLINK)).toHaveLength(7);
    expect(messages.at(-1)).toMatchObject({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 1 });
    expect(parseDoneMessage(messages.at(-1)!)).toEqual({ errno: 0 });
  });

  it("hold several messages each in a multipart dump", () => {
    expect(datagrams("links-dump").map((d) => parseMessages(d).length).reduce((a, b) => a + b)).toBe(8);
    expect(parseMessages(datagrams("links-dump")[0]!).length).toBeGreaterThan(1);
  });

  it("are refused when a message claims more bytes than were received", () => {
    const truncated = datagrams("ack")[0]!.subarray(0, 30);
    expect(() => parseMessages(truncated)).toThrow(/malformed netlink message \(length 36\) at offset 0 of 30/);
  });
});

describe("error replies", () => {
  it("carry errno and the kernel's extended-ack text after the capped request header", () => {
    const [message] = kernelMessages("error-unknown-kind");
    expect(message!.type).toBe(NLMSG_ERROR);
    expect(message!.flags).toBe(NLM_F_CAPPED | NLM_F_ACK_TLVS);
    expect(parseErrorMessage(message!)).toEqual({ errno: 95, extack: "Unknown device type" });
  });

  it("may carry no extended ack at all", () => {
    expect(parseErrorMessage(kernelMessages("error-exists")[0]!)).toEqual({ errno: 17 });
  });

  it("echo the whole request when NETLINK_CAP_ACK is off, and still parse", () => {
    const [message] = kernelMessages("error-uncapped");
    expect(message!.flags & NLM_F_CAPPED).toBe(0);
    expect(parseErrorMessage(message!).errno).toBe(19);
  });

  it("with errno 0 are acknowledgements", () => {
    expect(parseErrorMessage(kernelMessages("ack")[0]!)).toEqual({ errno: 0 });
  });

  it("follow the object a GET with NLM_F_ACK asked for", () => {
    expect(kernelMessages("link-get").map((m) => m.type)).toEqual([RTM_NEWLINK, NLMSG_ERROR]);
  });

  it("of a dump (NLMSG_DONE with a negative error) give errno and ext-ack", () => {
    const done = fromHex(
      "24000000" + "0300" + "0202" + "11000000" + "00000000" + // NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS
        "eaffffff" + // -EINVAL
        "0f000100" + "6261642066696c7465720000", // NLMSGERR_ATTR_MSG "bad filter"
    );
    const [message] = parseMessages(done);
    expect(parseDoneMessage(message!)).toEqual({ errno: 22, extack: "bad filter" });
  });
});
