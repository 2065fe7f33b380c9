import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { linkExists } from "../helpers/netns.ts";
import { uniqueName } from "../helpers/tag.ts";
import { GUEST_HOOK_TIMEOUT_MS, runInGuest, type GuestRun } from "./guest.ts";
import type { IpLink } from "./state.ts";

/**
 * The guest harness itself: a script runs in a kernel of its own with the modules it asks for,
 * our executable and the reference plugins run there unchanged, nothing reaches the host's
 * network, and a failing or hung guest fails the test with what the guest said.
 */
describe("the User-Mode Linux guest", () => {
  // Names the guest makes and the host must never see.
  const guestLink = uniqueName("um");
  const guestChain = `UM-${guestLink.toUpperCase()}`;
  let working: GuestRun;
  let failing: GuestRun;
  let hung: GuestRun;

  beforeAll(async () => {
    [working, failing, hung] = await Promise.all([
      runInGuest({
        modules: ["8021q", "dummy"],
        inputs: { "greeting.txt": "hello from the host\n" },
        script: `
          uname -r > release
          cat "$IN/greeting.txt"
          echo "to stderr" >&2
          ip netns list > netns-list
          findmnt -n -o FSTYPE /run > run-fstype
          CNI_COMMAND=VERSION "$OURS/bridge" < /dev/null > ours-version.json
          CNI_COMMAND=VERSION "$REFERENCE/bridge" < /dev/null > reference-version.json
          ip link add ${guestLink} type dummy
          ip link add link ${guestLink} name ${guestLink}.7 type vlan id 7
          iptables-legacy -w -N ${guestChain}
          iptables-legacy-save -t filter > guest-filter
          ip -j -d link show > links.json
        `,
      }),
      runInGuest({ script: "echo before\nfalse\necho after\n" }),
      runInGuest({ script: "sleep 600\n", timeoutMs: 5_000 }),
    ]);
  }, GUEST_HOOK_TIMEOUT_MS);

  it("runs the script in a kernel of its own and hands back status, output and files", () => {
    expect(working.status, working.transcript()).toBe(0);
    expect(readdirSync("/usr/lib/uml/modules")).toContain(working.text("release").trim());
    expect(working.stdout).toBe("hello from the host\n");
    expect(working.stderr).toBe("to stderr\n");
    expect(working.console).toContain("Linux version");
  });

  it("gives the guest its own /run, so the host's network namespaces are not there", () => {
    expect(working.text("run-fstype").trim()).toBe("tmpfs");
    expect(working.text("netns-list")).toBe("");
  });

  it("runs our compiled executable and the reference plugins unchanged", () => {
    expect(working.json<{ supportedVersions: string[] }>("ours-version.json").supportedVersions).toContain("1.1.0");
    expect(working.json<{ supportedVersions: string[] }>("reference-version.json").supportedVersions).toContain("1.0.0");
  });

  it("loads the modules the test asks for and those the kernel requests (a dummy link with a VLAN on it, an iptables chain)", () => {
    const links = working.json<IpLink[]>("links.json");
    expect(links.find((link) => link.ifname === guestLink)?.linkinfo?.info_kind).toBe("dummy");
    expect(links.find((link) => link.ifname === `${guestLink}.7`)?.linkinfo?.info_data).toMatchObject({ protocol: "802.1Q", id: 7 });
    expect(working.text("guest-filter")).toContain(`:${guestChain} - [0:0]`);
  });

  it("has no network device to the host, and what it does to its network stays in the guest", () => {
    const links = working.json<IpLink[]>("links.json");
    expect(links.filter((link) => link.ifname !== guestLink && link.ifname !== `${guestLink}.7`).map((link) => link.ifname)).toEqual(["lo"]);
    expect(linkExists(guestLink)).toBe(false);
    expect(hostLegacyFilterRules()).not.toContain(guestChain);
  });

  it("reports a failing script with its status and the guest's output", () => {
    expect(failing.status).toBe(1);
    expect(failing.stdout).toBe("before\n");
    expect(failing.stderr).toContain('guest: "false" exited with 1 at test.sh:2');
    expect(failing.transcript()).toContain("the script exited with 1");
    // mustRunInGuest puts all of it into the error a test fails with.
    expect(() => failing.assertSucceeded()).toThrow(/the script exited with 1[\s\S]*before[\s\S]*"false" exited with 1/);
  });

  it("kills a hung guest at its timeout, every process of it", () => {
    expect(hung.timedOut).toBe(true);
    expect(hung.status).toBeUndefined();
    expect(hung.transcript()).toContain("killed at its timeout");
    expect(() => process.kill(-hung.pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
  });
});

/** The host's legacy iptables filter table, read without loading it when the host has none. */
function hostLegacyFilterRules(): string {
  const tables = existsSync("/proc/net/ip_tables_names") ? readFileSync("/proc/net/ip_tables_names", "utf8") : "";
  if (!tables.split("\n").includes("filter")) return "";
  return execFileSync("iptables-legacy-save", ["-t", "filter"], { encoding: "utf8" });
}
