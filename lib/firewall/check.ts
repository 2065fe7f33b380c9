import { CniError, ErrorCode } from "../core/index.ts";

/** CHECK's verdict when rules are missing: code 104 listing each missing piece. */
export function checkFailed(missing: readonly string[]): CniError {
  return new CniError(ErrorCode.CheckFailed, `missing ${missing.join("; ")}`);
}
