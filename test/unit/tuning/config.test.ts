import { describe, expect, it } from "vitest";
import { CniArgs } from "../../../lib/skel/args.ts";
import { parseTuningConfig, resolveTuningSettings, tuningConfigSchema } from "../../../plugins/tuning/config.ts";
import { parseMac } from "../../../lib/link/index.ts";

/** DEL reads only what every command needs: no settings are resolved. */
const DEL = { command: "DEL", stdin: Buffer.alloc(0) } as const;

const base = { cniVersion: "1.0.0", name: "tn", type: "tuning" };

function resolve(config: Record<string, unknown>, cniArgs = "", ifname = "eth0") {
  const full = { ...base, ...config };
  return resolveTuningSettings(parseTuningConfig(full, DEL), CniArgs.parse(cniArgs), ifname, JSON.stringify(full));
}

describe("MAC address sources", () => {
  const MAC = { config: "c2:00:00:00:00:01", cniArgs: "c2:00:00:00:00:02", capability: "c2:00:00:00:00:03", argsCni: "c2:00:00:00:00:04" };

  it("takes the config key when nothing else gives one", () => {
    expect(resolve({ mac: MAC.config }).link.mac).toBe(MAC.config);
  });

  it("lets CNI_ARGS MAC override the config key", () => {
    expect(resolve({ mac: MAC.config }, `MAC=${MAC.cniArgs}`).link.mac).toBe(MAC.cniArgs);
  });

  it("lets the mac capability override CNI_ARGS", () => {
    expect(resolve({ mac: MAC.config, runtimeConfig: { mac: MAC.capability } }, `MAC=${MAC.cniArgs}`).link.mac).toBe(MAC.capability);
  });

  it("lets args.cni.mac override everything, as the reference applies it last", () => {
    const config = { mac: MAC.config, runtimeConfig: { mac: MAC.capability }, args: { cni: { mac: MAC.argsCni } } };
    expect(resolve(config, `MAC=${MAC.cniArgs}`).link.mac).toBe(MAC.argsCni);
  });

  it("ignores an empty CNI_ARGS MAC or capability, but an empty args.cni.mac clears the MAC", () => {
    expect(resolve({ mac: MAC.config, runtimeConfig: { mac: "" } }, "MAC=").link.mac).toBe(MAC.config);
    expect(resolve({ mac: MAC.config, args: { cni: { mac: "" } } }).link).not.toHaveProperty("mac");
  });

  it("ignores null as Go's decoder does", () => {
    expect(resolve({ mac: MAC.config, runtimeConfig: { mac: null }, args: { cni: { mac: null } } }).link.mac).toBe(MAC.config);
  });

  it("validates only the MAC that wins, naming where it came from (code 7)", () => {
    expect(resolve({ mac: "not-a-mac", runtimeConfig: { mac: MAC.capability } }).link.mac).toBe(MAC.capability);
    expect(() => resolve({ mac: MAC.config }, "MAC=zz:00:00:00:00:00")).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining('CNI_ARGS MAC="zz:00:00:00:00:00"') }),
    );
    expect(() => resolve({ runtimeConfig: { mac: "c2:00" } })).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining("runtimeConfig.mac") }));
  });

  it("refuses other CNI_ARGS keys unless IgnoreUnknown is set (code 4)", () => {
    expect(() => resolve({}, "K8S_POD_NAME=a")).toThrow(expect.objectContaining({ code: 4 }));
    expect(resolve({}, "IgnoreUnknown=1;K8S_POD_NAME=a").link).toEqual({});
  });
});

describe("MAC spellings", () => {
  it.each([
    ["C2:B0:57:49:47:F1", "c2:b0:57:49:47:f1"],
    ["c2-b0-57-49-47-f1", "c2:b0:57:49:47:f1"],
    ["c2b0.5749.47f1", "c2:b0:57:49:47:f1"],
    ["02:00:5e:10:00:00:00:01", "02:00:5e:10:00:00:00:01"],
  ])("reads %s as Go's net.ParseMAC does", (text, kernel) => {
    expect(parseMac(text)).toBe(kernel);
  });

  it.each(["c2:b0:57:49:47", "c2:b0:57:49:47:f1:00", "c2:b0-57:49:47:f1", "c2:b0:57:49:47:g1", "c:b0:57:49:47:f1", "c2b05749.47f1", ""])(
    "refuses %j",
    (text) => {
      expect(parseMac(text)).toBeUndefined();
    },
  );
});

describe("interface settings", () => {
  it("are empty when nothing is configured", () => {
    expect(resolve({})).toEqual({ sysctls: [], link: {} });
  });

  it("read every key the reference reads", () => {
    expect(resolve({ mac: "c2:00:00:00:00:01", promisc: true, mtu: 1400, allmulti: false, txQLen: 0 }).link).toEqual({
      mac: "c2:00:00:00:00:01",
      promisc: true,
      mtu: 1400,
      allmulti: false,
      txQLen: 0,
    });
  });

  it("treat promisc false and mtu 0 as not set, as the reference does", () => {
    expect(resolve({ promisc: false, mtu: 0 }).link).toEqual({});
  });

  it("take args.cni values over the config's, null leaving the config's", () => {
    const config = { promisc: true, mtu: 1400, allmulti: true, txQLen: 10, args: { cni: { promisc: false, mtu: 1300, allmulti: null, txQLen: 20 } } };
    expect(resolve(config).link).toEqual({ mtu: 1300, allmulti: true, txQLen: 20 });
  });

  it.each([
    ["mtu", -1],
    ["mtu", 1.5],
    ["txQLen", -1],
    ["promisc", "yes"],
    ["allmulti", 1],
  ])("refuse %s=%j (code 7)", (key, value) => {
    expect(() => resolve({ [key]: value })).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(`${key}=${JSON.stringify(value)}`) }));
  });
});

describe("sysctls", () => {
  it("keep the configured order and add args.cni.sysctl, which wins on the same key", () => {
    const config = {
      sysctl: { "net.core.somaxconn": "500", "net.ipv4.conf.IFNAME.arp_notify": "1" },
      args: { cni: { sysctl: { "net.core.somaxconn": "600", "net.ipv4.ip_forward": "1" } } },
    };
    expect(resolve(config, "", "eth0.5").sysctls).toEqual([
      { key: "net.core.somaxconn", path: "net/core/somaxconn", value: "600" },
      { key: "net.ipv4.conf.IFNAME.arp_notify", path: "net/ipv4/conf/eth0.5/arp_notify", value: "1" },
      { key: "net.ipv4.ip_forward", path: "net/ipv4/ip_forward", value: "1" },
    ]);
  });

  it("must be strings, as in the reference (code 7)", () => {
    expect(() => resolve({ sysctl: { "net.core.somaxconn": 500 } })).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining("sysctl.net.core.somaxconn=500") }),
    );
  });

  it("refuse two spellings of one file with different values (code 7)", () => {
    expect(() => resolve({ sysctl: { "net.core.somaxconn": "1", "net/core/somaxconn": "2" } })).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining("both name net/core/somaxconn") }),
    );
    expect(resolve({ sysctl: { "net.core.somaxconn": "1", "net/core/somaxconn": "1" } }).sysctls).toHaveLength(1);
  });

  it("refuse a key given twice in the JSON text, as the reference does (code 7)", () => {
    const text = `{"cniVersion":"1.0.0","name":"tn","type":"tuning","sysctl":{"net.core.somaxconn":"1","net.core.somaxconn":"2"}}`;
    const raw = JSON.parse(text) as Record<string, unknown>;
    expect(() => resolveTuningSettings(parseTuningConfig(raw, DEL), CniArgs.parse(""), "eth0", text)).toThrow(
      expect.objectContaining({ code: 7, message: 'invalid config: sysctl has the key "net.core.somaxconn" twice; keys must be unique' }),
    );
  });

  it("refuse a traversal attempt with the key named (code 7)", () => {
    expect(() => resolve({ sysctl: { "net.core.somaxconn": "1", "net/../kernel/hostname": "x" } })).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining('"net/../kernel/hostname"') }),
    );
  });
});

describe("what DEL, GC and STATUS read", () => {
  it("is the data directory, /run/cni/tuning unless set", () => {
    expect(parseTuningConfig(base, DEL).dataDir).toBe("/run/cni/tuning");
    expect(parseTuningConfig({ ...base, dataDir: "" }, DEL).dataDir).toBe("/run/cni/tuning");
    expect(parseTuningConfig({ ...base, dataDir: "/run/x" }, DEL).dataDir).toBe("/run/x");
  });

  it("leaves the rest alone, so a configuration ADD refused can still be deleted", () => {
    expect(() => parseTuningConfig({ ...base, mac: "bad", mtu: -5, sysctl: { "kernel.hostname": "x" } }, DEL)).not.toThrow();
  });

  it("notes whether GC listed its valid attachments", () => {
    expect(parseTuningConfig(base, DEL).listsValidAttachments).toBe(false);
    expect(parseTuningConfig({ ...base, "cni.dev/valid-attachments": [] }, DEL).listsValidAttachments).toBe(true);
  });
});

describe("the exported schema", () => {
  it("describes every key of the reference", () => {
    const keys = Object.keys(tuningConfigSchema.shape);
    for (const key of ["sysctl", "mac", "promisc", "mtu", "txQLen", "allmulti", "dataDir", "runtimeConfig", "args"]) expect(keys).toContain(key);
  });
});
