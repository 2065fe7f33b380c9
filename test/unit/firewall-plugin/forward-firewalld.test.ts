import { describe, expect, it } from "vitest";
import { busctlArgs, parseBusctlReply } from "../../../lib/firewall/forward/busctl.ts";
import { firewalldForwardAccess } from "../../../lib/firewall/forward/firewalld.ts";
import { selectForwardAccess } from "../../../lib/firewall/forward/index.ts";
import { FakeExecutor, type RecordedCall } from "../firewall/fake-executor.ts";

const FIREWALLD = "org.fedoraproject.FirewallD1 /org/fedoraproject/FirewallD1";
const ZONE = `${FIREWALLD} org.fedoraproject.FirewallD1.zone`;
const GET_NAME_OWNER = "--system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s org.fedoraproject.FirewallD1";
const EMPTY_FILTER = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";

/** busctl as a running firewalld answers it; `answers` overrides single calls by their argument line. */
function firewalld(answers: Record<string, { status?: number; stdout?: string; stderr?: string }> = {}, tools: ConstructorParameters<typeof FakeExecutor>[0] = {}): FakeExecutor {
  return new FakeExecutor({
    ...tools,
    busctl: (call: RecordedCall) => {
      const line = call.args.join(" ");
      if (answers[line]) return answers[line];
      if (line === GET_NAME_OWNER) return { stdout: 's ":1.0"\n' };
      if (line.includes(" querySource ")) return { stdout: "b true\n" };
      if (line.includes(" getZones")) return { stdout: 'as 3 "public" "trusted" "internal"\n' };
      return { stdout: 's "trusted"\n' };
    },
    "iptables-save -t filter": { stdout: EMPTY_FILTER },
  });
}

const busctlLines = (executor: FakeExecutor) => executor.calls.filter((call) => call.tool === "busctl").map((call) => call.args.join(" "));
const attachment = { network: "net1", containerId: "ctr1", ifname: "eth0" };
const request = { attachment, addresses: ["10.1.2.3/24", "fd00::3/64"] };

describe("firewalld backend: the D-Bus calls it makes", () => {
  it("adds each address to the zone as a host route, over the system bus", () => {
    const executor = firewalld();
    firewalldForwardAccess(executor, "trusted").setup(request);
    expect(busctlLines(executor)).toEqual([
      `--system call ${ZONE} addSource ss trusted 10.1.2.3/32`,
      `--system call ${ZONE} addSource ss trusted fd00::3/128`,
    ]);
    expect(executor.calls.some((call) => call.tool.startsWith("ip"))).toBe(false);
  });

  it("takes ZONE_ALREADY_SET as done, and fails with code 101 and firewalld's words otherwise", () => {
    const already = firewalld({ [`--system call ${ZONE} addSource ss trusted 10.1.2.3/32`]: { status: 1, stderr: "Call failed: ZONE_ALREADY_SET: '10.1.2.3/32' already bound to 'trusted'" } });
    expect(() => firewalldForwardAccess(already, "trusted").setup(request)).not.toThrow();

    const conflict = firewalld({ [`--system call ${ZONE} addSource ss trusted 10.1.2.3/32`]: { status: 1, stderr: "Call failed: ZONE_CONFLICT: '10.1.2.3/32' already bound to a zone" } });
    expect(() => firewalldForwardAccess(conflict, "trusted").setup(request)).toThrow(
      expect.objectContaining({ code: 101, message: "firewalld: adding source 10.1.2.3/32 to zone trusted: ZONE_CONFLICT: '10.1.2.3/32' already bound to a zone" }),
    );
  });

  it("says firewalld is not running when the call fails for that reason", () => {
    const executor = new FakeExecutor({ busctl: { status: 1, stderr: "Failed to connect to bus: No such file or directory" } });
    expect(() => firewalldForwardAccess(executor, "trusted").setup(request)).toThrow(
      expect.objectContaining({ code: 101, message: expect.stringContaining("it is not running (no owner of org.fedoraproject.FirewallD1 on the system bus)") }),
    );
  });

  it("sets up isolation with iptables, one restore per family", () => {
    const executor = firewalld();
    firewalldForwardAccess(executor, "trusted").setup({ ...request, isolation: { bridge: "cni0", policy: "same-bridge" } });
    expect(executor.calls.map((call) => call.tool)).toEqual(["busctl", "busctl", "iptables-save", "iptables-restore", "ip6tables-save", "ip6tables-restore"]);
    expect(executor.scripts("iptables-restore")[0]).toContain("-I CNI-ISOLATION-STAGE-1 1 -i cni0 ! -o cni0");
    expect(executor.scripts("iptables-restore")[0]).not.toContain("CNI-FORWARD");
  });

  it("removes the sources on teardown, taking 'not in this zone' answers and a stopped firewalld as done", () => {
    const executor = firewalld({
      [`--system call ${ZONE} removeSource ss trusted 10.1.2.3/32`]: { status: 1, stderr: "Call failed: UNKNOWN_SOURCE: '10.1.2.3/32' is not in any zone" },
    });
    firewalldForwardAccess(executor, "trusted").teardown(attachment, request.addresses);
    expect(busctlLines(executor)).toEqual([
      `--system call ${ZONE} removeSource ss trusted 10.1.2.3/32`,
      `--system call ${ZONE} removeSource ss trusted fd00::3/128`,
    ]);

    const stopped = new FakeExecutor({ busctl: { status: 1, stderr: "Call failed: The name org.fedoraproject.FirewallD1 was not provided by any .service files" } });
    expect(() => firewalldForwardAccess(stopped, "trusted").teardown(attachment, request.addresses)).not.toThrow();
  });

  it("fails teardown with code 101 when a running firewalld refuses", () => {
    const executor = firewalld({ [`--system call ${ZONE} removeSource ss trusted 10.1.2.3/32`]: { status: 1, stderr: "Call failed: Access denied" } });
    expect(() => firewalldForwardAccess(executor, "trusted").teardown(attachment, request.addresses)).toThrow(expect.objectContaining({ code: 101, message: expect.stringContaining("Access denied") }));
  });

  it("checks each source with querySource and names the ones missing (code 104)", () => {
    const executor = firewalld({ [`--system call ${ZONE} querySource ss trusted fd00::3/128`]: { stdout: "b false\n" } });
    expect(() => firewalldForwardAccess(executor, "trusted").check(request)).toThrow(
      expect.objectContaining({ code: 104, message: "missing source fd00::3/128 in firewalld zone trusted" }),
    );
    expect(() => firewalldForwardAccess(firewalld(), "trusted").check(request)).not.toThrow();
  });

  it("checks the isolation rules in iptables too", () => {
    expect(() => firewalldForwardAccess(firewalld(), "trusted").check({ attachment, addresses: ["10.1.2.3/24"], isolation: { bridge: "cni0", policy: "same-bridge" } })).toThrow(
      expect.objectContaining({ code: 104, message: expect.stringContaining("chain CNI-ISOLATION-STAGE-1 in iptables table filter") }),
    );
  });

  it("is usable when firewalld runs and has the zone; code 50 otherwise", () => {
    expect(() => firewalldForwardAccess(firewalld(), "trusted").ensureUsable(false)).not.toThrow();
    expect(() => firewalldForwardAccess(firewalld(), "dmz").ensureUsable(false)).toThrow(
      expect.objectContaining({ code: 50, message: 'firewalld has no zone "dmz" (firewalldZone); it has public, trusted, internal' }),
    );
    const stopped = new FakeExecutor({ busctl: { status: 1, stderr: "Failed to connect to bus" } });
    expect(() => firewalldForwardAccess(stopped, "trusted").ensureUsable(false)).toThrow(expect.objectContaining({ code: 50 }));
    const noIptables = firewalld({}, { iptables: { status: 4, stderr: "no iptables" } });
    expect(() => firewalldForwardAccess(noIptables, "trusted").ensureUsable(true)).toThrow(expect.objectContaining({ code: 50, message: expect.stringContaining("iptables") }));
  });
});

describe("choosing the firewall plugin's backend", () => {
  it("takes firewalld when it owns its name on the system bus and nothing is configured, as the reference", () => {
    expect(selectForwardAccess({ executor: firewalld() }).backend).toBe("firewalld");
    const noFirewalld = new FakeExecutor({ busctl: { status: 1, stderr: "Call failed: Could not get owner of name 'org.fedoraproject.FirewallD1': no such name" } });
    expect(selectForwardAccess({ executor: noFirewalld }).backend).toBe("iptables");
    expect(busctlLines(noFirewalld)).toEqual([GET_NAME_OWNER]);
  });

  it("asks nothing when the backend is configured", () => {
    const executor = new FakeExecutor();
    expect(selectForwardAccess({ backend: "iptables", executor }).backend).toBe("iptables");
    expect(selectForwardAccess({ backend: "firewalld", executor }).backend).toBe("firewalld");
    expect(executor.calls).toEqual([]);
  });
});

describe("busctl", () => {
  it("passes the signature and arguments after the method, and none for a method without", () => {
    const call = { destination: "a.b", path: "/a/b", interface: "a.b.c", method: "m" };
    expect(busctlArgs({ ...call, signature: "ss", args: ["x", "y z"] })).toEqual(["--system", "call", "a.b", "/a/b", "a.b.c", "m", "ss", "x", "y z"]);
    expect(busctlArgs({ ...call, signature: "", args: [] })).toEqual(["--system", "call", "a.b", "/a/b", "a.b.c", "m"]);
  });

  it("reads busctl's plain replies: booleans, strings with escapes, arrays of strings", () => {
    expect(parseBusctlReply("b true\n")).toEqual([true]);
    expect(parseBusctlReply("b false")).toEqual([false]);
    expect(parseBusctlReply('s "trusted"')).toEqual(["trusted"]);
    expect(parseBusctlReply('s "a \\"quoted\\" word\\\\"')).toEqual(['a "quoted" word\\']);
    expect(parseBusctlReply('as 3 "block" "dmz" "my zone"')).toEqual([["block", "dmz", "my zone"]]);
    expect(parseBusctlReply("as 0")).toEqual([[]]);
    expect(parseBusctlReply('sb "x" true')).toEqual(["x", true]);
  });

  it("refuses a reply it cannot read, with code 101", () => {
    expect(() => parseBusctlReply("u 7")).toThrow(expect.objectContaining({ code: 101 }));
    expect(() => parseBusctlReply("as 2 \"one\"")).toThrow(expect.objectContaining({ code: 101, message: expect.stringContaining("ended early") }));
  });
});
