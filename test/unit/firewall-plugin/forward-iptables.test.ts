import { describe, expect, it } from "vitest";
import { parseInterfaceAddresses } from "../../../lib/firewall/address.ts";
import { forwardGcScript, forwardSetupScript, forwardTeardownScript, iptablesForwardAccess, missingForward } from "../../../lib/firewall/forward/iptables.ts";
import { missingIsolation } from "../../../lib/firewall/forward/isolation.ts";
import { setupForwardAccess } from "../../../lib/firewall/forward/index.ts";
import { attachmentTag } from "../../../lib/firewall/forward/tag.ts";
import { parseIptablesSave } from "../../../lib/firewall/iptables/save.ts";
import { FakeExecutor } from "../firewall/fake-executor.ts";

const EMPTY_FILTER = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
const FORWARD_JUMP = '-m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD';
const ADMIN_JUMP = '-m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN';
const SHARED = '-m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge|isolated)"';
const SAME_BRIDGE = '-m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge)"';
const ISOLATED = '-m comment --comment "CNI firewall plugin rules (ingressPolicy: isolated)"';

/** The filter table after the reference set up 10.1.2.3 (and, with `bridge`, isolated it with v1.1.1's comments). */
function savedWithContainer(bridge?: string): string {
  const isolation = bridge
    ? [
        ":CNI-ISOLATION-STAGE-1 - [0:0]",
        ":CNI-ISOLATION-STAGE-2 - [0:0]",
        `-A FORWARD ${SAME_BRIDGE} -j CNI-ISOLATION-STAGE-1`,
      ]
    : [];
  const isolationRules = bridge
    ? [
        `-A CNI-ISOLATION-STAGE-1 -i ${bridge} ! -o ${bridge} ${SAME_BRIDGE} -j CNI-ISOLATION-STAGE-2`,
        `-A CNI-ISOLATION-STAGE-1 ${SAME_BRIDGE} -j RETURN`,
        `-A CNI-ISOLATION-STAGE-2 -o ${bridge} ${SAME_BRIDGE} -j DROP`,
        `-A CNI-ISOLATION-STAGE-2 ${SAME_BRIDGE} -j RETURN`,
      ]
    : [];
  return [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":CNI-ADMIN - [0:0]",
    ":CNI-FORWARD - [0:0]",
    ...isolation,
    `-A FORWARD ${FORWARD_JUMP}`,
    `-A CNI-FORWARD ${ADMIN_JUMP}`,
    "-A CNI-FORWARD -d 10.1.2.3/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A CNI-FORWARD -s 10.1.2.3/32 -j ACCEPT",
    ...isolationRules,
    "COMMIT",
    "",
  ].join("\n");
}

const ATTACHMENT = { network: "net1", containerId: "ctr1", ifname: "eth0" };
const TAG = attachmentTag(ATTACHMENT);
const OTHER = attachmentTag({ network: "net1", containerId: "ctr2", ifname: "eth0" });

/** The reference's two rules of an address, as iptables-save prints them. */
function acceptRules(host: string): string[] {
  return [`-A CNI-FORWARD -d ${host} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `-A CNI-FORWARD -s ${host} -j ACCEPT`];
}

/** An attachment's marker of an address. */
function marker(host: string, tag = TAG): string {
  return `-A CNI-FORWARD -s ${host} -m comment --comment "${tag}"`;
}

/** What our ADD leaves for an address: the reference's rules and the marker. */
function ourRules(host: string, tag = TAG): string[] {
  return [...acceptRules(host), marker(host, tag)];
}

const deleted = (lines: string[]) => lines.map((line) => line.replace(/^-A /, "-D "));

/** The filter table with the shared chains and jumps, and these CNI-FORWARD rules. */
function savedWith(rules: string[]): string {
  return [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":CNI-ADMIN - [0:0]",
    ":CNI-FORWARD - [0:0]",
    `-A FORWARD ${FORWARD_JUMP}`,
    `-A CNI-FORWARD ${ADMIN_JUMP}`,
    ...rules,
    "COMMIT",
    "",
  ].join("\n");
}

/** What setup writes for 10.1.2.3 into an empty filter table. */
const FRESH_SETUP = ["-N CNI-FORWARD", "-N CNI-ADMIN", `-I FORWARD 1 ${FORWARD_JUMP}`, `-I CNI-FORWARD 1 ${ADMIN_JUMP}`, ...ourRules("10.1.2.3/32")];

const table = (saved: string) => parseIptablesSave(saved, "filter");
const setupText = (saved: string, cidrs: string[], isolation?: { bridge: string; policy: "same-bridge" | "isolated" }, adminChain = "CNI-ADMIN") =>
  forwardSetupScript(table(saved), parseInterfaceAddresses(cidrs), ATTACHMENT, adminChain, isolation).text();
const teardownText = (saved: string, cidrs: string[], attachment = ATTACHMENT) => forwardTeardownScript(table(saved), parseInterfaceAddresses(cidrs), attachment).text();
const script = (lines: string[]) => ["*filter", ...lines, "COMMIT", ""].join("\n");

describe("firewall plugin tags", () => {
  it("name the attachment by hashes of network and ifname:container ID, then in words", () => {
    expect(TAG).toBe("8e48f37d5de60467-7883a6f9ce71eedb firewall net: net1 id: ctr1 if: eth0");
  });

  it("fit iptables' 255 characters and hold no quote, whatever the names", () => {
    const tag = attachmentTag({ network: "n".repeat(200), containerId: "c".repeat(200), ifname: 'a"b\\c' });
    expect(tag.length).toBe(255);
    expect(tag).not.toMatch(/["\\]/);
  });
});

describe("firewall plugin iptables scripts", () => {
  it("creates the chains, the jumps first in their chains, the reference's address rules and the attachment's marker", () => {
    expect(setupText(EMPTY_FILTER, ["10.1.2.3/24"])).toBe(script(FRESH_SETUP));
  });

  it("names IPv6 addresses as /128 routes and writes each address once", () => {
    expect(setupText(EMPTY_FILTER, ["fd00:0:0:7::3/64", "fd00:0:0:7::3/64"])).toContain(`${ourRules("fd00:0:0:7::3/128").join("\n")}\nCOMMIT`);
  });

  it("only appends the rules of a new address when the shared chains and jumps are there", () => {
    expect(setupText(savedWithContainer(), ["10.1.2.4/24"])).toBe(script(ourRules("10.1.2.4/32")));
  });

  it("adds only its marker where the reference made the address's rules, and nothing when all is there", () => {
    expect(setupText(savedWithContainer(), ["10.1.2.3/24"])).toBe(script([marker("10.1.2.3/32")]));
    expect(setupText(savedWith(ourRules("10.1.2.3/32")), ["10.1.2.3/24"])).toBe(script([]));
  });

  it("jumps to a configured admin chain", () => {
    const text = setupText(savedWith(ourRules("10.1.2.3/32")), ["10.1.2.3/24"], undefined, "MY-ADMIN");
    expect(text).toBe(script(["-N MY-ADMIN", '-I CNI-FORWARD 1 -m comment --comment "CNI firewall plugin admin overrides" -j MY-ADMIN']));
  });

  it("isolates a bridge with the reference's rules, its FORWARD jump ahead of CNI-FORWARD's", () => {
    expect(setupText(EMPTY_FILTER, ["10.1.2.3/24"], { bridge: "cni0", policy: "same-bridge" })).toBe(
      script([
        ...FRESH_SETUP,
        "-N CNI-ISOLATION-STAGE-1",
        "-N CNI-ISOLATION-STAGE-2",
        `-I FORWARD 1 ${SHARED} -j CNI-ISOLATION-STAGE-1`,
        `-I CNI-ISOLATION-STAGE-1 1 -i cni0 ! -o cni0 ${SAME_BRIDGE} -j CNI-ISOLATION-STAGE-2`,
        `-A CNI-ISOLATION-STAGE-1 ${SHARED} -j RETURN`,
        `-I CNI-ISOLATION-STAGE-2 1 -o cni0 ${SHARED} -j DROP`,
        `-A CNI-ISOLATION-STAGE-2 ${SHARED} -j RETURN`,
      ]),
    );
  });

  it("adds a second bridge's rules first in the stage chains, and isolated's DROP first of all", () => {
    const saved = savedWithContainer("cni0").replace("COMMIT", `${marker("10.1.2.3/32")}\nCOMMIT`);
    expect(setupText(saved, ["10.1.2.3/24"], { bridge: "cni1", policy: "isolated" })).toBe(
      script([
        `-I CNI-ISOLATION-STAGE-1 1 -i cni1 ! -o cni1 ${ISOLATED} -j CNI-ISOLATION-STAGE-2`,
        `-I CNI-ISOLATION-STAGE-1 1 -i cni1 -o cni1 ${ISOLATED} -j DROP`,
        `-I CNI-ISOLATION-STAGE-2 1 -o cni1 ${SHARED} -j DROP`,
      ]),
    );
  });

  it("takes the isolation rules the reference wrote before v1.7.0 as present", () => {
    const saved = savedWithContainer("cni0").replace("COMMIT", `${marker("10.1.2.3/32")}\nCOMMIT`);
    expect(setupText(saved, ["10.1.2.3/24"], { bridge: "cni0", policy: "same-bridge" })).toBe(script([]));
    expect(missingIsolation(table(savedWithContainer("cni0")), { bridge: "cni0", policy: "same-bridge" })).toEqual([]);
  });

  it("tears down every copy of the address's rules (the reference's too) and nothing shared", () => {
    const twice = savedWithContainer().replace("COMMIT", "-A CNI-FORWARD -s 10.1.2.3/32 -j ACCEPT\nCOMMIT");
    expect(teardownText(twice, ["10.1.2.3/24"])).toBe(script(deleted([...acceptRules("10.1.2.3/32"), "-A CNI-FORWARD -s 10.1.2.3/32 -j ACCEPT"])));
    expect(forwardTeardownScript(table(EMPTY_FILTER), parseInterfaceAddresses(["10.1.2.3/24"]), ATTACHMENT).isEmpty).toBe(true);
  });

  it("finds the attachment's addresses by its markers, without prevResult, in the family it is given", () => {
    const saved = savedWith([...ourRules("10.1.2.3/32"), ...ourRules("10.1.2.4/32", OTHER)]);
    expect(teardownText(saved, [])).toBe(script(deleted(ourRules("10.1.2.3/32"))));
  });

  it("keeps the rules of an address another attachment's marker still claims, removing only its own marker", () => {
    const shared = savedWith([...ourRules("10.1.2.3/32"), marker("10.1.2.3/32", OTHER)]);
    expect(teardownText(shared, ["10.1.2.3/24"])).toBe(script(deleted([marker("10.1.2.3/32")])));
    expect(teardownText(savedWith(ourRules("10.1.2.3/32", OTHER)), ["10.1.2.9/24"])).toBe(script([]));
  });

  it("collects the network's attachments that are not valid, through their markers, and nothing else", () => {
    const otherNetwork = attachmentTag({ network: "net2", containerId: "ctr3", ifname: "eth0" });
    const saved = savedWith([...ourRules("10.1.2.3/32"), ...ourRules("10.1.2.4/32", OTHER), ...ourRules("10.1.2.5/32", otherNetwork), ...acceptRules("10.1.2.6/32")]);
    const gc = forwardGcScript(table(saved), "net1", [{ containerID: "ctr1", ifname: "eth0" }]).text();
    expect(gc).toBe(script(deleted(ourRules("10.1.2.4/32", OTHER))));
  });

  it("names every missing piece for CHECK, and nothing for our layout or the reference's", () => {
    const addresses = parseInterfaceAddresses(["10.1.2.3/24"]);
    expect(missingForward(table(savedWithContainer()), addresses, "CNI-ADMIN")).toEqual([]);
    expect(missingForward(table(savedWith(ourRules("10.1.2.3/32"))), addresses, "CNI-ADMIN")).toEqual([]);
    expect(missingForward(table(EMPTY_FILTER), addresses, "CNI-ADMIN")).toEqual([
      "chain CNI-FORWARD",
      "chain CNI-ADMIN",
      `rule "-A FORWARD ${FORWARD_JUMP}"`,
    ]);
    const withoutSource = savedWithContainer().replace("-A CNI-FORWARD -s 10.1.2.3/32 -j ACCEPT\n", "");
    expect(missingForward(table(withoutSource), addresses, "CNI-ADMIN")).toEqual(['rule "-A CNI-FORWARD -s 10.1.2.3/32 -j ACCEPT"']);
    expect(missingIsolation(table(savedWithContainer()), { bridge: "cni0", policy: "same-bridge" })).toEqual([
      "chain CNI-ISOLATION-STAGE-1",
      "chain CNI-ISOLATION-STAGE-2",
      `rule "-A FORWARD ${SHARED} -j CNI-ISOLATION-STAGE-1"`,
    ]);
  });
});

describe("firewall plugin iptables backend", () => {
  it("works only on the families the container has addresses of, one restore per family", () => {
    const executor = new FakeExecutor({ "iptables-save -t filter": { stdout: EMPTY_FILTER } });
    iptablesForwardAccess(executor, "CNI-ADMIN").setup({ attachment: ATTACHMENT, addresses: ["10.1.2.3/24"] });
    expect(executor.calls.map((call) => call.tool)).toEqual(["iptables-save", "iptables-restore"]);
    expect(executor.calls[1]!.args).toEqual(["-w", "30", "--noflush"]);
  });

  it("runs nothing when every rule is in place", () => {
    const executor = new FakeExecutor({ "iptables-save -t filter": { stdout: savedWith(ourRules("10.1.2.3/32")) } });
    iptablesForwardAccess(executor, "CNI-ADMIN").setup({ attachment: ATTACHMENT, addresses: ["10.1.2.3/24"] });
    expect(executor.scripts("iptables-restore")).toEqual([]);
  });

  it("tears down in both families without addresses, skipping one whose table cannot be listed", () => {
    const executor = new FakeExecutor({
      "iptables-save -t filter": { stdout: savedWith(ourRules("10.1.2.3/32")) },
      "ip6tables-save -t filter": { status: 1, stderr: "ip6tables-save: no IPv6 here" },
    });
    iptablesForwardAccess(executor, "CNI-ADMIN").teardown(ATTACHMENT, []);
    expect(executor.scripts("iptables-restore")).toEqual([script(deleted(ourRules("10.1.2.3/32")))]);
    expect(executor.scripts("ip6tables-restore")).toEqual([]);
  });

  it("plans again from a fresh reading when another process created CNI-FORWARD in between", () => {
    let reads = 0;
    const executor = new FakeExecutor({
      "iptables-save -t filter": () => ({ stdout: reads++ === 0 ? EMPTY_FILTER : savedWithContainer() }),
      "iptables-restore": (call) => (call.input!.includes("-N CNI-FORWARD") ? { status: 1, stderr: "iptables-restore: line 2 failed: Chain already exists." } : {}),
    });
    iptablesForwardAccess(executor, "CNI-ADMIN").setup({ attachment: ATTACHMENT, addresses: ["10.1.2.4/24"] });
    const scripts = executor.scripts("iptables-restore");
    expect(scripts).toHaveLength(2);
    expect(scripts[1]).toBe(script(ourRules("10.1.2.4/32")));
  });

  it("undoes the IPv4 rules when the IPv6 family fails, and reports the IPv6 failure", () => {
    let setUp = false;
    const executor = new FakeExecutor({
      "iptables-save -t filter": () => ({ stdout: setUp ? savedWith(ourRules("10.1.2.3/32")) : savedWithContainer() }),
      "iptables-restore": () => {
        setUp = true;
        return {};
      },
      "ip6tables-save -t filter": { status: 1, stderr: "ip6tables-save: no IPv6 here" },
    });
    expect(() => setupForwardAccess({ attachment: ATTACHMENT, addresses: ["10.1.2.3/24", "fd00::3/64"] }, { backend: "iptables", executor })).toThrow(
      expect.objectContaining({ code: 101, message: expect.stringContaining("letting addresses 10.1.2.3/24, fd00::3/64 through the firewall (iptables): ip6tables-save -t filter failed") }),
    );
    const [, undo] = executor.scripts("iptables-restore");
    expect(undo).toBe(script(deleted(ourRules("10.1.2.3/32"))));
  });

  it("fails CHECK with code 104 naming the family and table of each missing piece", () => {
    const executor = new FakeExecutor({ "iptables-save -t filter": { stdout: EMPTY_FILTER } });
    expect(() => iptablesForwardAccess(executor, "CNI-ADMIN").check({ attachment: ATTACHMENT, addresses: ["10.1.2.3/24"] })).toThrow(
      expect.objectContaining({ code: 104, message: expect.stringMatching(/^missing chain CNI-FORWARD in iptables table filter; chain CNI-ADMIN in iptables table filter; rule/) }),
    );
  });

  it("reports code 50 from ensureUsable when iptables cannot list a chain", () => {
    const executor = new FakeExecutor({ iptables: { status: 3, stderr: "iptables: no kernel support" } });
    expect(() => iptablesForwardAccess(executor, "CNI-ADMIN").ensureUsable(false)).toThrow(expect.objectContaining({ code: 50 }));
    expect(() => iptablesForwardAccess(new FakeExecutor(), "CNI-ADMIN").ensureUsable(false)).not.toThrow();
  });
});
