import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOWLIST_PATH, readAllowlist, requireAllowed } from "../../../plugins/tuning/allowlist.ts";

describe("the sysctl allowlist", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function allowlistFile(text: string): string {
    const dir = mkdtempSync(join(tmpdir(), "tuning-allowlist-"));
    dirs.push(dir);
    const path = join(dir, "allowlist.conf");
    writeFileSync(path, text);
    return path;
  }

  it("lives where the reference reads it", () => {
    expect(ALLOWLIST_PATH).toBe("/etc/cni/tuning/allowlist.conf");
  });

  it("allows every key when the file does not exist", () => {
    expect(readAllowlist(join(tmpdir(), "no-such-dir-for-tuning", "allowlist.conf"))).toBeUndefined();
  });

  it("reads one expression per line, skipping blank lines and surrounding space", () => {
    const allowlist = readAllowlist(allowlistFile("^net\\.core\\.somaxconn$\n\n   \n  ^net\\.ipv4\\.conf\\.IFNAME\\.[a-z_]*$  \r\n"))!;
    expect(allowlist.patterns.map((pattern) => [pattern.line, pattern.source])).toEqual([
      [1, "^net\\.core\\.somaxconn$"],
      [4, "^net\\.ipv4\\.conf\\.IFNAME\\.[a-z_]*$"],
    ]);
  });

  it("matches the key as written, before IFNAME is replaced", () => {
    const allowlist = readAllowlist(allowlistFile("^net\\.ipv4\\.conf\\.IFNAME\\.[a-z_]*$\n"))!;
    expect(() => requireAllowed(["net.ipv4.conf.IFNAME.arp_notify"], allowlist)).not.toThrow();
    expect(() => requireAllowed(["net.ipv4.conf.eth0.arp_notify"], allowlist)).toThrow(expect.objectContaining({ code: 7 }));
  });

  it("matches anywhere in the key unless the expression is anchored, as Go's MatchString does", () => {
    const allowlist = readAllowlist(allowlistFile("somaxconn\n"))!;
    expect(() => requireAllowed(["net.core.somaxconn"], allowlist)).not.toThrow();
  });

  it("refuses the first key no line matches (code 7), naming it, the file and the allowed patterns", () => {
    const path = allowlistFile("^net\\.core\\.\n");
    expect(() => requireAllowed(["net.core.somaxconn", "net.ipv4.ip_forward"], readAllowlist(path)!)).toThrow(
      expect.objectContaining({
        code: 7,
        message: `invalid config: sysctl key "net.ipv4.ip_forward": not allowed by ${path} (allowed patterns: ^net\\.core\\.)`,
      }),
    );
  });

  it("refuses every key when the file is empty, as the reference does", () => {
    expect(() => requireAllowed(["net.core.somaxconn"], readAllowlist(allowlistFile(""))!)).toThrow(/allowed patterns: none/);
  });

  it("turns RE2's leading flag group into regular expression flags", () => {
    const allowlist = readAllowlist(allowlistFile("(?i)^NET\\.CORE\\.\n"))!;
    expect(() => requireAllowed(["net.core.somaxconn"], allowlist)).not.toThrow();
  });

  it("reports an expression that does not compile with its file and line (code 7)", () => {
    const path = allowlistFile("^net\\.core\\.\n^net\\.(ipv4\n");
    expect(() => readAllowlist(path)).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(`${path} line 2`) }));
  });
});
