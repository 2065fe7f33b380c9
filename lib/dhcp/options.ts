/**
 * DHCPv4 option codes (RFC 2132 and later), and option names as the reference dhcp plugin
 * accepts them in `provide` and `request`: a few dhcp-options(5) names, or the decimal code.
 */
export const Option = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DomainNameServer: 6,
  HostName: 12,
  DomainName: 15,
  StaticRoutes: 33,
  RequestedAddress: 50,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerIdentifier: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClassIdentifier: 60,
  ClientIdentifier: 61,
  UserClass: 77,
  ClasslessStaticRoutes: 121,
  End: 255,
} as const;

export const MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

const MESSAGE_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MessageType).map(([name, value]) => [value, `DHCP${name.toUpperCase()}`]));

/** "DHCPOFFER", or "message type 42". */
export function messageTypeName(type: number): string {
  return MESSAGE_TYPE_NAMES[type] ?? `message type ${type}`;
}

/** The names the reference accepts (its optionNameToID). */
const OPTION_NAMES: Record<string, number> = {
  "dhcp-client-identifier": Option.ClientIdentifier,
  "subnet-mask": Option.SubnetMask,
  routers: Option.Router,
  "host-name": Option.HostName,
  "user-class": Option.UserClass,
  "vendor-class-identifier": Option.VendorClassIdentifier,
};

export const KNOWN_OPTION_NAMES = Object.keys(OPTION_NAMES);

/** An option name or decimal code (0-255) as the reference reads it; undefined when it is neither. */
export function parseOptionName(text: string): number | undefined {
  if (Object.hasOwn(OPTION_NAMES, text)) return OPTION_NAMES[text];
  if (!/^\d{1,5}$/.test(text)) return undefined; // Go reads leading zeros too ("007")
  const code = Number(text);
  return code <= 255 ? code : undefined;
}
