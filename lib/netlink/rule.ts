import { AddressFormatError, type IpFamily, type Prefix, formatPrefix, parsePrefix } from "./addr-bytes.ts";
import { attr, withOptional } from "./attributes.ts";
import {
  FR_ACT_TO_TBL,
  FR_ACT_UNSPEC,
  FRA_DST,
  FRA_IIFNAME,
  FRA_OIFNAME,
  FRA_PRIORITY,
  FRA_SRC,
  FRA_TABLE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  RT_TABLE_UNSPEC,
  RTM_DELRULE,
  RTM_GETRULE,
  RTM_NEWRULE,
} from "./constants.ts";
import { addressFamily, ipFamilyOf, splitTableId } from "./family.ts";
import { fibRuleHdr } from "./headers.ts";
import { type NetlinkMessage, type Request, decodeBody, request } from "./message.ts";

/** A policy routing rule (`ip rule`) that looks up a table. */
export interface Rule {
  family: IpFamily;
  /** 0 for the rule that has none (the local table's rule). */
  priority: number;
  table: number;
  /** Source prefix ("from"). */
  src?: string;
  /** Destination prefix ("to"). */
  dst?: string;
  /** Input interface name. */
  iif?: string;
  /** Output interface name. */
  oif?: string;
}

export interface NewRule {
  family: IpFamily;
  /** Left out, the kernel picks one below the last rule. */
  priority?: number;
  table: number;
  src?: string;
  dst?: string;
  iif?: string;
  oif?: string;
}

/** What identifies rules to delete; fields left out match any rule. */
export type RuleSelector = Omit<NewRule, "table"> & { table?: number };

export function addRuleRequest(rule: NewRule): Request {
  return ruleRequest(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, FR_ACT_TO_TBL, rule);
}

export function deleteRuleRequest(rule: RuleSelector): Request {
  return ruleRequest(RTM_DELRULE, NLM_F_ACK, FR_ACT_UNSPEC, rule);
}

export function dumpRulesRequest(family: IpFamily): Request {
  return request(RTM_GETRULE, NLM_F_DUMP, fibRuleHdr.encode({ family: addressFamily(family) }));
}

function ruleRequest(type: number, flags: number, action: number, rule: RuleSelector): Request {
  const src = prefixOf(rule, "src", rule.src);
  const dst = prefixOf(rule, "dst", rule.dst);
  const table = splitTableId(rule.table ?? RT_TABLE_UNSPEC);
  return request(
    type,
    flags,
    fibRuleHdr.encode({
      family: addressFamily(rule.family),
      dstLen: dst?.prefixLength ?? 0,
      srcLen: src?.prefixLength ?? 0,
      table: table.inHeader,
      action,
    }),
    [
      attr.bytes(FRA_SRC, src?.bytes),
      attr.bytes(FRA_DST, dst?.bytes),
      attr.string(FRA_IIFNAME, rule.iif),
      attr.string(FRA_OIFNAME, rule.oif),
      attr.u32(FRA_TABLE, table.inAttribute),
      attr.u32(FRA_PRIORITY, rule.priority),
    ],
  );
}

export function decodeRule(message: NetlinkMessage): Rule | undefined {
  const { header, attributes } = decodeBody(message, fibRuleHdr);
  const family = ipFamilyOf(header.family);
  if (family === undefined) return undefined;
  const src = attributes.bytes(FRA_SRC);
  const dst = attributes.bytes(FRA_DST);
  const rule: Rule = {
    family,
    priority: attributes.u32(FRA_PRIORITY) ?? 0,
    table: attributes.u32(FRA_TABLE) ?? header.table,
  };
  return withOptional(rule, {
    src: src && formatPrefix(src, header.srcLen),
    dst: dst && formatPrefix(dst, header.dstLen),
    iif: attributes.string(FRA_IIFNAME),
    oif: attributes.string(FRA_OIFNAME),
  });
}

/** Words for error messages: "from 10.1.0.5/32 lookup 100 priority 1000". */
export function describeRule(rule: RuleSelector): string {
  const parts: string[] = [];
  if (rule.src !== undefined) parts.push(`from ${rule.src}`);
  if (rule.dst !== undefined) parts.push(`to ${rule.dst}`);
  if (rule.iif !== undefined) parts.push(`iif ${rule.iif}`);
  if (rule.oif !== undefined) parts.push(`oif ${rule.oif}`);
  if (rule.table !== undefined) parts.push(`lookup ${rule.table}`);
  if (rule.priority !== undefined) parts.push(`priority ${rule.priority}`);
  return `${parts.join(" ")} (IPv${rule.family})`;
}

function prefixOf(rule: RuleSelector, field: string, text: string | undefined): Prefix | undefined {
  if (text === undefined) return undefined;
  const prefix = parsePrefix(text);
  if (prefix.family !== rule.family) {
    throw new AddressFormatError(`rule ${field} ${text} is not an IPv${rule.family} prefix`);
  }
  return prefix;
}
