import { existsSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { OUR_TUNING, REFERENCE_TUNING, TuningContainer, type LinkView } from "./harness.ts";

/**
 * Our tuning against the reference's (Debian's containernetworking-plugins 1.1.1), each chained
 * after the same bridge result on the same interface, one after the other: the result, the
 * interface's settings, the sysctls in the namespace and the saved-settings file must match,
 * and each must restore what the other saved.
 */
const WATCHED_SYSCTLS = ["net/core/somaxconn", "net/ipv4/conf/eth0/arp_ignore", "net/ipv4/conf/eth0/arp_filter", "net/ipv4/conf/all/arp_ignore"];

interface Observation {
  result: unknown;
  link: LinkView;
  sysctls: string[];
  /** The saved-settings file while attached, or undefined when none was written. */
  saved: string | undefined;
  /** The interface after DEL. */
  restored: LinkView;
  savedAfterDel: boolean;
}

describe("tuning against the reference plugin", () => {
  const containers: TuningContainer[] = [];
  afterEach(() => {
    for (const container of containers.splice(0)) container.remove();
  });
  function attached(cniVersion = "1.0.0"): TuningContainer {
    const container = new TuningContainer();
    containers.push(container);
    container.attach(cniVersion);
    return container;
  }

  /** ADD then DEL with one binary, putting the sysctls back afterwards for the next run. */
  function observe(c: TuningContainer, binary: string, config: Record<string, unknown>, args?: string): Observation {
    const sysctlsBefore = WATCHED_SYSCTLS.map((path) => c.sysctl(path));
    const add = c.tuning("ADD", config, { binary, args });
    if (add.status !== 0) throw new Error(`${binary} ADD failed: ${add.stdout} ${add.stderr}`);
    const savedText = existsSync(c.savedStatePath()) ? readFileSync(c.savedStatePath(), "utf8") : undefined;
    const observation = {
      result: add.json,
      link: c.link(),
      sysctls: WATCHED_SYSCTLS.map((path) => c.sysctl(path)),
      saved: savedText?.replace(/,\n "network": "[^"]*"\n}$/, "\n}"),
    };
    const del = c.tuning("DEL", config, { binary, args });
    if (del.status !== 0) throw new Error(`${binary} DEL failed: ${del.stdout} ${del.stderr}`);
    WATCHED_SYSCTLS.forEach((path, index) => c.netns.exec(["sh", "-c", `echo ${sysctlsBefore[index]} > /proc/sys/${path}`]));
    return { ...observation, restored: c.link(), savedAfterDel: existsSync(c.savedStatePath()) };
  }

  const SYSCTLS = { "net.ipv4.conf.IFNAME.arp_ignore": "1", "net.ipv4.conf.eth0.arp_filter": "1", "net.core.somaxconn": "777" };
  const scenarios: [string, Record<string, unknown>, string?, string?][] = [
    ["every interface setting and sysctls, spec 1.0.0", { mac: "c2:11:22:33:44:55", mtu: 1400, promisc: true, allmulti: true, sysctl: SYSCTLS }],
    ["the same in a 0.4.0 chain", { mac: "c2:11:22:33:44:55", mtu: 1400, promisc: true, allmulti: true, sysctl: SYSCTLS }, "0.4.0"],
    ["the same in a 0.3.1 chain", { mac: "c2:11:22:33:44:55", mtu: 1400 }, "0.3.1"],
    ["sysctls only: nothing saved", { sysctl: SYSCTLS }],
    ["allmulti off and an MTU only", { allmulti: false, mtu: 1280 }],
    ["a MAC from CNI_ARGS", { mac: "c2:00:00:00:00:01" }, "1.0.0", "IgnoreUnknown=1;MAC=c2:00:00:00:00:02"],
    [
      "MAC from the capability and args.cni, args.cni winning",
      { mac: "c2:00:00:00:00:01", runtimeConfig: { mac: "c2:00:00:00:00:03" }, args: { cni: { mac: "c2:00:00:00:00:04" } } },
      "1.0.0",
      "IgnoreUnknown=1;MAC=c2:00:00:00:00:02",
    ],
    ["the mac capability over CNI_ARGS", { runtimeConfig: { mac: "c2:00:00:00:00:03" } }, "1.0.0", "IgnoreUnknown=1;MAC=c2:00:00:00:00:02"],
    [
      "args.cni overriding the config and adding sysctls",
      { mtu: 1400, promisc: true, sysctl: { "net.core.somaxconn": "600" }, args: { cni: { mtu: 1300, promisc: false, sysctl: { "net.ipv4.conf.IFNAME.arp_ignore": "2" } } } },
    ],
  ];

  it.each(scenarios)("matches for %s", (_name, settings, cniVersion = "1.0.0", args) => {
    const c = attached(cniVersion);
    const original = c.link();
    const config = c.config(settings, { cniVersion });
    const reference = observe(c, REFERENCE_TUNING, config, args);
    const ours = observe(c, OUR_TUNING, config, args);
    expect(ours).toEqual(reference);
    expect(ours.restored).toEqual(original);
    expect(ours.savedAfterDel).toBe(false);
  });

  it("restores what the reference saved, and the reference restores what we saved", () => {
    const c = attached();
    const original = c.link();
    const config = c.config({ mac: "c2:11:22:33:44:55", mtu: 1400, promisc: true, allmulti: true });
    for (const [adder, deleter] of [
      [REFERENCE_TUNING, OUR_TUNING],
      [OUR_TUNING, REFERENCE_TUNING],
    ] as const) {
      expect(c.tuning("ADD", config, { binary: adder }).status).toBe(0);
      expect(c.link()).toEqual({ ...original, mac: "c2:11:22:33:44:55", mtu: 1400, promisc: true, allmulti: true });
      expect(c.tuning("DEL", config, { binary: deleter }).status).toBe(0);
      expect(c.link()).toEqual(original);
      expect(existsSync(c.savedStatePath())).toBe(false);
    }
  });

  it("both pass CHECK after ADD and fail it once a value is changed by hand (the reference with 999, we with 104)", () => {
    const c = attached();
    const config = c.config({ mtu: 1400, sysctl: { "net.core.somaxconn": "777" } });
    for (const binary of [REFERENCE_TUNING, OUR_TUNING]) {
      const result = c.tuning("ADD", config, { binary }).json;
      expect(c.tuning("CHECK", { ...config, prevResult: result }, { binary }).status).toBe(0);
      c.netns.exec(["ip", "link", "set", "eth0", "mtu", "1300"]);
      const check = c.tuning("CHECK", { ...config, prevResult: result }, { binary });
      expect(check.json.code).toBe(binary === OUR_TUNING ? 104 : 999);
      c.tuning("DEL", config, { binary });
    }
  });

  describe("where 1.1.1 differs, and why", () => {
    it("txQLen: added to the reference after 1.1.1, which ignores it; we set and restore it", () => {
      const c = attached();
      const original = c.link();
      const config = c.config({ txQLen: 321 });
      expect(observe(c, REFERENCE_TUNING, config)).toMatchObject({ link: { txqlen: original.txqlen }, saved: undefined });
      expect(observe(c, OUR_TUNING, config)).toMatchObject({ link: { txqlen: 321 }, restored: { txqlen: original.txqlen } });
    });

    it("a key with an empty component: 1.1.1 cleans the path and writes another file, we refuse it (7)", () => {
      const c = attached();
      const config = c.config({ sysctl: { "net.ipv4.conf.eth0..arp_ignore": "2" } });
      expect(observe(c, REFERENCE_TUNING, config).sysctls[1]).toBe("2");
      expect(c.tuning("ADD", config).json).toMatchObject({ code: 7, msg: expect.stringContaining('"net.ipv4.conf.eth0..arp_ignore"') });
      expect(c.sysctl("net/ipv4/conf/eth0/arp_ignore")).toBe("0");
    });

    it("CHECK of an IFNAME key: 1.1.1 reads the literal IFNAME path and fails (fixed in the reference later); we pass", () => {
      const c = attached();
      const config = c.config({ sysctl: { "net.ipv4.conf.IFNAME.arp_ignore": "1" } });
      for (const [binary, status] of [
        [REFERENCE_TUNING, 1],
        [OUR_TUNING, 0],
      ] as const) {
        const result = c.tuning("ADD", config, { binary }).json;
        expect(c.tuning("CHECK", { ...config, prevResult: result }, { binary }).status).toBe(status);
      }
    });

    it("a MAC in another spelling: the reference copies it into the result as written, we write the kernel's spelling", () => {
      const c = attached();
      const config = c.config({ mac: "C2-11-22-33-44-55" });
      const macOf = (result: { interfaces: { sandbox?: string; mac: string }[] }) => result.interfaces.find((entry) => entry.sandbox)!.mac;
      expect(macOf(observe(c, REFERENCE_TUNING, config).result as never)).toBe("C2-11-22-33-44-55");
      const ours = observe(c, OUR_TUNING, config);
      expect(macOf(ours.result as never)).toBe("c2:11:22:33:44:55");
      expect(ours.link.mac).toBe("c2:11:22:33:44:55");
    });
  });
});
