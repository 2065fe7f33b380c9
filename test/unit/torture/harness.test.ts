import { describe, expect, it } from "vitest";
import { classify } from "../../../scripts/torture/classify.ts";
import { mutateRequest, pickCommand, serializeWithDuplicate, type OddPaths } from "../../../scripts/torture/mutate.ts";
import { Random } from "../../../scripts/torture/random.ts";
import { residueOf } from "../../../scripts/torture/shared.ts";

const PATHS: OddPaths = {
  fifo: "/tmp/x/fifo",
  bigFile: "/tmp/x/big",
  regularFile: "/tmp/x/regular",
  emptyFile: "/tmp/x/empty",
  directory: "/tmp/x/directory",
  missing: "/tmp/x/missing/file",
  escape: "../ttabc-escape",
  longContainerId: `ttabc123o1x${"x".repeat(1000)}`,
};
const SEED = { cniVersion: "1.0.0", name: "net", type: "bridge", bridge: "br0", ipam: { type: "host-local", dataDir: "/tmp/x/data", ranges: [[{ subnet: "10.1.0.0/24" }]] } };
const ENV = { PATH: "/bin", CNI_CONTAINERID: "c1", CNI_NETNS: "/run/netns/n", CNI_IFNAME: "eth0", CNI_PATH: "/bin" };

function cases(seed: number, count: number) {
  return Array.from({ length: count }, (_, index) => {
    const random = Random.stream(seed, `fuzz/bridge/${index}`);
    const command = pickCommand(random);
    const request = mutateRequest(random, SEED, ENV, command, PATHS);
    return { env: request.env, stdin: request.stdin.toString("base64"), mutations: request.mutations };
  });
}

describe("the torture suite's cases", () => {
  it("are the same for the same seed, and differ for another", () => {
    expect(cases(7, 50)).toEqual(cases(7, 50));
    expect(cases(8, 50)).not.toEqual(cases(7, 50));
  });

  it("do not depend on how many cases run before them", () => {
    expect(cases(7, 60).slice(0, 50)).toEqual(cases(7, 50));
  });

  it("never change the seed configuration they start from", () => {
    const before = structuredClone(SEED);
    cases(3, 100);
    expect(SEED).toEqual(before);
  });

  it("write a key twice into one object when asked to", () => {
    expect(serializeWithDuplicate({ a: { b: 1 } }, ["a"], "b", 2)).toBe('{"a":{"b":1,"b":2}}');
  });
});

describe("classifying an answer", () => {
  const answer = (status: number | undefined, stdout: string, stderr = "", extra: { signal?: string; timedOut?: boolean } = {}) => ({
    status,
    stdout,
    stderr,
    signal: extra.signal,
    timedOut: extra.timedOut ?? false,
  });

  it("takes an error object with a spec code as an error, and code 999 as a crash", () => {
    expect(classify("ADD", answer(1, '{"code":7,"msg":"invalid config: x"}'))).toMatchObject({ class: "error", code: 7 });
    expect(classify("ADD", answer(1, '{"code":999,"msg":"boom"}'))).toMatchObject({ class: "crash", code: 999 });
  });

  it("takes a stack trace or Go panic on stderr, output that is not JSON, or a signal as a crash", () => {
    expect(classify("DEL", answer(1, '{"code":7,"msg":"x"}', "Error: x\n    at f (/a.js:1:2)\n")).class).toBe("crash");
    expect(classify("DEL", answer(2, "", "panic: runtime error\n\ngoroutine 1 [running]:\n")).class).toBe("crash");
    expect(classify("ADD", answer(1, "not json")).class).toBe("crash");
    expect(classify("ADD", answer(0, "")).class).toBe("crash");
    expect(classify("ADD", answer(undefined, "", "", { signal: "SIGSEGV" })).class).toBe("crash");
  });

  it("takes no answer in time as a hang, and an empty successful DEL as ok", () => {
    expect(classify("ADD", answer(undefined, "", "", { signal: "SIGKILL", timedOut: true })).class).toBe("hang");
    expect(classify("DEL", answer(0, "")).class).toBe("ok");
  });
});

describe("residue", () => {
  const difference = (added: string[]) => ({ added, changed: [], removed: [] });
  const after = new Map([["link br0", "bridge"], ["link veth1", "veth master br0"]]);

  it("is anything a container leaves: a veth, a lease, a rule naming its address or ID", () => {
    const items = [
      "link veth1",
      "file /tmp/x/data/net/10.1.0.2",
      "ipt4 filter -A CNI-FORWARD -s 10.1.0.2/32 -j ACCEPT",
      'ipt4 nat -A POSTROUTING -s 10.1.0.2/32 -m comment --comment "name: \\"net\\" id: \\"ttabc123o5\\"" -j CNI-0123456789abcdef01234567',
      "qdisc veth1 tbf 1: parent root",
      "sysctl net/ipv4/conf/all/rp_filter",
    ];
    expect(residueOf(difference(items), after, "abc123")).toEqual(items);
  });

  it("is not what every attachment shares by design: the bridge, its address, forwarding, shared chains, the store's lock", () => {
    const items = [
      "link br0",
      "addr br0 10.1.0.1/24",
      "route4 main unicast 10.1.0.0/24 dev br0 via ",
      "sysctl net/ipv4/ip_forward",
      "ipt4 filter chain CNI-FORWARD",
      'ipt4 filter -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD',
      "nft table ip cni_hostport chain hostports_all jump hostports",
      "file /tmp/x/data/net/lock",
      "file /tmp/x/data/net/last_reserved_ip.0",
    ];
    expect(residueOf(difference(items), after, "abc123")).toEqual([]);
  });
});
