import { CniError, ErrorCode } from "../core/index.ts";

/**
 * CNI_ARGS: "K1=V1;K2=V2". Like the reference, keys a plugin does not know are an error unless
 * IgnoreUnknown is true (Kubernetes always sets it and passes K8S_POD_* keys).
 */
export class CniArgs {
  private constructor(
    /** CNI_ARGS exactly as received, for passing on to delegated plugins. */
    readonly text: string,
    private readonly pairs: ReadonlyMap<string, string>,
  ) {}

  static parse(text: string): CniArgs {
    const pairs = new Map<string, string>();
    if (text === "") return new CniArgs(text, pairs);
    for (const pair of text.split(";")) {
      const parts = pair.split("=");
      if (parts.length !== 2 || parts[0] === "") {
        throw new CniError(ErrorCode.InvalidEnvironment, `CNI_ARGS: "${pair}" is not a KEY=VALUE pair`);
      }
      pairs.set(parts[0]!, parts[1]!);
    }
    return new CniArgs(text, pairs);
  }

  get(key: string): string | undefined {
    return this.pairs.get(key);
  }

  get ignoreUnknown(): boolean {
    const value = this.pairs.get("IgnoreUnknown")?.toLowerCase();
    return value === "1" || value === "true";
  }

  /** Rejects keys outside `known` (plus IgnoreUnknown) unless IgnoreUnknown is set. */
  requireKnown(known: readonly string[]): void {
    if (this.ignoreUnknown) return;
    const unknown = [...this.pairs.keys()].filter((key) => key !== "IgnoreUnknown" && !known.includes(key));
    if (unknown.length > 0) {
      throw new CniError(
        ErrorCode.InvalidEnvironment,
        `CNI_ARGS: unknown keys ${unknown.join(", ")} (known: ${known.join(", ") || "none"}; set IgnoreUnknown=1 to allow others)`,
      );
    }
  }
}
