import { IPAddress } from "../../../lib/ip/index.ts";
import { attachmentKey, containerKey, type AddressStore, type Attachment } from "../../../lib/ipam/index.ts";

/** An in-memory AddressStore: address text -> lease content, and last reserved per range set. */
export class FakeStore implements AddressStore {
  readonly leases = new Map<string, string>();
  readonly last = new Map<number, string>();

  constructor(leases: Record<string, string> = {}, last: Record<number, string> = {}) {
    for (const [ip, holder] of Object.entries(leases)) this.leases.set(ip, holder);
    for (const [index, ip] of Object.entries(last)) this.last.set(Number(index), ip);
  }

  reserve(ip: IPAddress, attachment: Attachment, rangeSetIndex: number): boolean {
    if (this.leases.has(ip.toString())) return false;
    this.leases.set(ip.toString(), attachmentKey(attachment));
    this.last.set(rangeSetIndex, ip.toString());
    return true;
  }

  lastReservedIP(rangeSetIndex: number): IPAddress | undefined {
    const text = this.last.get(rangeSetIndex);
    return text === undefined ? undefined : IPAddress.tryParse(text);
  }

  leasesOf(attachment: Attachment): IPAddress[] {
    const keys = [attachmentKey(attachment), containerKey(attachment)];
    return [...this.leases].filter(([, holder]) => keys.includes(holder)).map(([ip]) => IPAddress.parse(ip));
  }

  holderOf(ip: IPAddress): string | undefined {
    return this.leases.get(ip.toString());
  }
}
