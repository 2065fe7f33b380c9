import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatChainName } from "../../../lib/firewall/names.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { lockHost, rememberSharedState } from "./host.ts";
import { addContainer, forgetPortMappings, freePort, hostNatLines, portmap, portmapConfig, removeContainer, type Container, type Mapping } from "./topology.ts";

const REFERENCE = join(REFERENCE_BIN, "portmap");

/**
 * Ours against the reference portmap (Debian's 1.1.1, iptables only), both run in the host
 * namespace for containers of our bridge + host-local, on the same iptables.
 */
describe("portmap against the reference (iptables)", () => {
  let unlock: () => void;
  let restoreShared: () => void;
  let dualStack: { network: TestNetwork };
  let ipv4Only: { network: TestNetwork };
  const containers: [{ network: TestNetwork }, Container][] = [];

  beforeAll(async () => {
    unlock = await lockHost();
    restoreShared = rememberSharedState();
    dualStack = { network: createTestNetwork() };
    ipv4Only = { network: createTestNetwork({ dualStack: false }) };
  }, 600_000);

  afterEach(() => {
    for (const [topology, container] of containers.splice(0)) {
      forgetPortMappings(topology.network, container);
      removeContainer(topology, container);
    }
  });

  afterAll(() => {
    dualStack?.network.cleanup();
    ipv4Only?.network.cleanup();
    restoreShared?.();
    unlock?.();
  });

  function newContainer(topology: { network: TestNetwork }): Container {
    const container = addContainer(topology);
    containers.push([topology, container]);
    return container;
  }

  function mappings(): Mapping[] {
    const [a, b, c, d, e] = [freePort(), freePort(), freePort(), freePort(), freePort()];
    return [
      { hostPort: a, containerPort: 80, protocol: "tcp" },
      { hostPort: b, containerPort: 443, protocol: "tcp" },
      { hostPort: c, containerPort: 53, protocol: "udp" },
      { hostPort: d, containerPort: 90, protocol: "tcp", hostIP: "127.0.0.1" },
      { hostPort: e, containerPort: 91, protocol: "sctp", hostIP: "::1" },
    ];
  }

  /**
   * The rules of one container in both families' nat tables: its chain and the entry rules
   * into it, in iptables-save's order (the reference's order is deterministic: it sorts the
   * protocols). Only the lines of this container are taken, because other tests' rules
   * (bridge masquerading in POSTROUTING) come and go in the same host tables meanwhile.
   */
  function rulesOf(network: TestNetwork, container: Container): string[][] {
    const chain = formatChainName(network.name, container.id, "DN-");
    return ([4, 6] as const).map((family) => hostNatLines(family).filter((line) => line.includes(chain)));
  }

  /** The shared chains' lines, as a sorted set: their position among other tests' lines in built-in chains varies. */
  function sharedLines(): string[][] {
    return ([4, 6] as const).map((family) =>
      hostNatLines(family)
        .filter((line) => line.includes("CNI-HOSTPORT") && !line.includes("CNI-DN-"))
        .sort(),
    );
  }

  it("writes the same rules as the reference for the same mappings, shared chains included", () => {
    const c = newContainer(dualStack);
    const config = portmapConfig(dualStack.network, mappings(), {}, c.result);
    expect(portmap("ADD", c, config, REFERENCE).status).toBe(0);
    const reference = { own: rulesOf(dualStack.network, c), shared: sharedLines() };
    expect(reference.own[0]!.length).toBeGreaterThan(10);
    expect(portmap("DEL", c, config, REFERENCE).status).toBe(0);
    // The shared chains stay after a DEL (the reference never removes them); take them away
    // too if this test made them, so that ours has to make them itself.
    restoreShared();

    expect(portmap("ADD", c, config).status).toBe(0);
    expect(rulesOf(dualStack.network, c)).toEqual(reference.own);
    expect(sharedLines()).toEqual(reference.shared);
  });

  it("adds nothing on top of the reference's rules for the same container", () => {
    const c = newContainer(dualStack);
    const config = portmapConfig(dualStack.network, mappings(), {}, c.result);
    portmap("ADD", c, config, REFERENCE);
    const reference = rulesOf(dualStack.network, c);
    expect(portmap("ADD", c, config).status).toBe(0);
    expect(rulesOf(dualStack.network, c)).toEqual(reference);
  });

  it("lets the reference's DEL remove the rules we wrote", () => {
    const c = newContainer(dualStack);
    const config = portmapConfig(dualStack.network, mappings(), {}, c.result);
    portmap("ADD", c, config);
    expect(rulesOf(dualStack.network, c)[0]).not.toEqual([]);
    const del = portmap("DEL", c, config, REFERENCE);
    expect([del.status, del.stdout]).toEqual([0, ""]);
    expect(rulesOf(dualStack.network, c)).toEqual([[], []]);
  });

  it("removes the reference's rules with our DEL", () => {
    const c = newContainer(dualStack);
    const config = portmapConfig(dualStack.network, mappings(), {}, c.result);
    portmap("ADD", c, config, REFERENCE);
    expect(rulesOf(dualStack.network, c)[1]).not.toEqual([]);
    expect(portmap("DEL", c, config).status).toBe(0);
    expect(rulesOf(dualStack.network, c)).toEqual([[], []]);
  });

  it("passes our CHECK on the reference's rules", () => {
    const c = newContainer(dualStack);
    const config = portmapConfig(dualStack.network, mappings(), {}, c.result);
    portmap("ADD", c, config, REFERENCE);
    const check = portmap("CHECK", c, config);
    expect([check.status, check.stdout]).toEqual([0, ""]);
  });

  it("passes CHECK for an IPv4-only container, where the reference fails its own CHECK", () => {
    const ours = newContainer(ipv4Only);
    const oursConfig = portmapConfig(ipv4Only.network, mappings(), {}, ours.result);
    expect(portmap("ADD", ours, oursConfig).status).toBe(0);
    expect(portmap("CHECK", ours, oursConfig).status).toBe(0);

    const theirs = newContainer(ipv4Only);
    const theirsConfig = portmapConfig(ipv4Only.network, mappings(), {}, theirs.result);
    expect(portmap("ADD", theirs, theirsConfig, REFERENCE).status).toBe(0);
    // The reference bug: 1.1.1 checks the IPv4 address's chain in ip6tables as well (its
    // checkPorts looks in every usable family, whatever the address's family), where ADD made
    // nothing, so its CHECK fails on its own fresh rules. Ours checks each family it forwards.
    const referenceCheck = portmap("CHECK", theirs, theirsConfig, REFERENCE);
    expect(referenceCheck.status).toBe(1);
    expect(referenceCheck.json.msg).toBe(
      `could not check ipv6 dnat: chain ${formatChainName(ipv4Only.network.name, theirs.id, "DN-")} not found in iptables table nat`,
    );
    expect(portmap("CHECK", theirs, theirsConfig).status).toBe(0);
  });
});
