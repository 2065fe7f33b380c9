/**
 * CNI error codes: the spec's well-known codes (0-99) and this suite's own (100+).
 * Every failure a plugin reports is a CniError; anything else reaching the dispatcher is a bug
 * and is reported as Internal.
 */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  LimitedConnectivity: 51,
  /** A netlink request or system call failed; the message names the operation and errno. */
  KernelOperationFailed: 100,
  /** An iptables/nftables transaction failed; the message carries the tool's own error. */
  FirewallFailed: 101,
  /** A delegated plugin (IPAM) could not be found or run. */
  DelegateFailed: 102,
  /** No free address is left in a range set. */
  AddressesExhausted: 103,
  /** CHECK found the container's networking not as ADD left it. */
  CheckFailed: 104,
  /** A requested address is already reserved (host-local), or the attachment already holds one. */
  AddressInUse: 105,
  /** A DHCP server's lease lacks what a CNI result needs (a subnet mask). */
  UnusableLease: 106,
  /** An unexpected failure: a bug in this suite. */
  Internal: 999,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | number;

export interface ErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export class CniError extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
    readonly details = "",
  ) {
    super(message);
    this.name = "CniError";
  }

  toObject(cniVersion: string): ErrorObject {
    const object: ErrorObject = { cniVersion, code: this.code, msg: this.message };
    if (this.details) object.details = this.details;
    return object;
  }

  /** The same error with context in front of its message ("open container netns: ..."). */
  withContext(context: string): CniError {
    return new CniError(this.code, `${context}: ${this.message}`, this.details);
  }
}

/** Code 7 naming the field and the offending value, as the spec asks. */
export function invalidConfig(field: string, value: unknown, reason: string): CniError {
  return new CniError(ErrorCode.InvalidConfig, `invalid config: ${field}=${describeValue(value)}: ${reason}`);
}

/** Code 2: a field the plugin (or this kernel) cannot honour. */
export function unsupportedField(field: string, value: unknown, reason: string): CniError {
  return new CniError(ErrorCode.UnsupportedField, `unsupported field ${field}=${describeValue(value)}: ${reason}`);
}

export function invalidEnvironment(variable: string, reason: string): CniError {
  return new CniError(ErrorCode.InvalidEnvironment, `${variable}: ${reason}`);
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * An error from a lower layer that knows which CNI code describes it (a failed netlink request
 * or system call is KernelOperationFailed), so it needs no wrapping where it is thrown.
 */
export interface CodedError extends Error {
  readonly cniCode: ErrorCodeValue;
}

function isCodedError(error: Error): error is CodedError {
  return typeof (error as Partial<CodedError>).cniCode === "number";
}

/** Wraps any thrown value into a CniError, keeping CniErrors as they are. */
export function toCniError(error: unknown, fallbackCode: ErrorCodeValue = ErrorCode.Internal): CniError {
  if (error instanceof CniError) return error;
  if (error instanceof Error && isCodedError(error)) return new CniError(error.cniCode, error.message);
  if (error instanceof Error) return new CniError(fallbackCode, error.message);
  return new CniError(fallbackCode, String(error));
}
