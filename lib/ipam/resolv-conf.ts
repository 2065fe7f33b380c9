import type { DNS } from "../types/index.ts";

/**
 * Reads resolv.conf text into a result's dns, as the reference does: `nameserver` adds its first
 * argument, `search` and `options` add all of theirs, the last `domain` wins; comments (# or ;),
 * blank lines, lines without an argument and other keywords are skipped.
 */
export function parseResolvConf(text: string): DNS {
  const dns: DNS = {};
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/u);
    const [keyword, ...values] = fields;
    if (!keyword || keyword.startsWith("#") || keyword.startsWith(";") || values.length === 0) continue;
    switch (keyword) {
      case "nameserver":
        (dns.nameservers ??= []).push(values[0]!);
        break;
      case "domain":
        dns.domain = values[0]!;
        break;
      case "search":
        (dns.search ??= []).push(...values);
        break;
      case "options":
        (dns.options ??= []).push(...values);
        break;
    }
  }
  return dns;
}
