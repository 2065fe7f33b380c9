import type { NetNS } from "../netns/index.ts";
import type { IpFamily } from "./addr-bytes.ts";
import {
  type Address,
  type AddressSelector,
  type NewAddress,
  addAddressRequest,
  decodeAddress,
  deleteAddressRequest,
  dumpAddressesRequest,
  formatAddress,
} from "./address.ts";
import {
  type BridgePortChange,
  type BridgeVlan,
  type BridgeVlanChange,
  bridgeVlanRequest,
  decodeBridgeVlans,
  dumpBridgeVlansRequest,
  setBridgePortRequest,
} from "./bridge.ts";
import { RT_TABLE_MAIN, RT_TABLE_UNSPEC } from "./constants.ts";
import { NetlinkError, isNotFound, isNotSupported } from "./errors.ts";
import {
  type Link,
  type LinkChange,
  decodeLink,
  deleteLinkRequest,
  describeLinkChange,
  dumpLinksRequest,
  getLinkRequest,
  setLinkRequest,
} from "./link.ts";
import { type NewLink, createLinkRequest, describeNewLink, explainCreateFailure } from "./link-create.ts";
import type { NetlinkMessage, Request } from "./message.ts";
import {
  type Neighbour,
  type NeighbourSelector,
  type NewNeighbour,
  addNeighbourRequest,
  decodeNeighbour,
  deleteNeighbourRequest,
  dumpNeighboursRequest,
} from "./neighbour.ts";
import {
  type NewRoute,
  type RouteAddMode,
  type RouteEntry,
  type RouteSelector,
  addRouteRequest,
  decodeRoute,
  deleteRouteRequest,
  describeRoute,
  dumpRoutesRequest,
} from "./route.ts";
import {
  type NewRule,
  type Rule,
  type RuleSelector,
  addRuleRequest,
  decodeRule,
  deleteRuleRequest,
  describeRule,
  dumpRulesRequest,
} from "./rule.ts";
import { type Describe, NetlinkSocket } from "./socket.ts";

/**
 * A synchronous rtnetlink client bound to one network namespace: links, addresses, routes,
 * neighbours, policy rules and bridge ports/VLANs. Every call sends one request and waits for
 * the kernel's answer; failures throw NetlinkError naming the operation.
 */
export class Rtnetlink {
  private constructor(private readonly socket: NetlinkSocket) {}

  /** Opens a socket in the calling thread's current network namespace. */
  static open(): Rtnetlink {
    return new Rtnetlink(NetlinkSocket.open());
  }

  /**
   * Opens a socket inside ns and switches straight back: the socket keeps working in ns, so
   * nothing else has to run inside it.
   */
  static openIn(ns: NetNS): Rtnetlink {
    return ns.run(() => Rtnetlink.open());
  }

  close(): void {
    this.socket.close();
  }

  // Links

  links(): Link[] {
    return this.socket.dump(dumpLinksRequest(), () => "list links").map(decodeLink);
  }

  linkByName(name: string): Link | undefined {
    return this.getLink({ name }, () => `look up link ${name}`);
  }

  linkByIndex(index: number): Link | undefined {
    return this.getLink({ index }, () => `look up link ifindex ${index}`);
  }

  /** Creates a link; read it back with linkByName (in the namespace it was created in). */
  createLink(spec: NewLink): void {
    try {
      this.socket.command(createLinkRequest(spec), () => describeNewLink(spec, (index) => this.nameOf(index)));
    } catch (error) {
      throw error instanceof NetlinkError ? explainCreateFailure(spec, error) : error;
    }
  }

  setLink(index: number, change: LinkChange): void {
    this.run(setLinkRequest(index, change), () => `set link ${this.nameOf(index)} ${describeLinkChange(change)}`);
  }

  deleteLink(index: number): void {
    this.run(deleteLinkRequest(index), () => `delete link ${this.nameOf(index)}`);
  }

  // Bridge ports and VLANs

  setBridgePort(index: number, change: BridgePortChange): void {
    const words = Object.entries(change)
      .filter(([, on]) => on !== undefined)
      .map(([option, on]) => `${option} ${on ? "on" : "off"}`);
    try {
      this.run(setBridgePortRequest(index, change), () => `set bridge port ${this.nameOf(index)} ${words.join(", ")}`);
    } catch (error) {
      throw this.explainBridgeRefusal(index, error);
    }
  }

  addBridgeVlan(index: number, vlan: BridgeVlanChange): void {
    this.changeBridgeVlan("add", index, vlan);
  }

  deleteBridgeVlan(index: number, vlan: BridgeVlanChange): void {
    this.changeBridgeVlan("delete", index, vlan);
  }

  /** The VLANs of a bridge port or bridge; empty when the kernel has no VLAN filtering. */
  bridgeVlans(index: number): BridgeVlan[] {
    const entries = this.socket.dump(dumpBridgeVlansRequest(), () => "list bridge VLANs").map(decodeBridgeVlans);
    return entries.filter((entry) => entry.index === index).flatMap((entry) => entry.vlans);
  }

  // Addresses

  addresses(filter: { index?: number; family?: IpFamily } = {}): Address[] {
    return this.list(dumpAddressesRequest(filter.family), "list addresses", decodeAddress).filter(
      (address) => matches(filter.index, address.index) && matches(filter.family, address.family),
    );
  }

  addAddress(address: NewAddress): void {
    const describe = () => `add address ${formatAddress(address)} to ${this.nameOf(address.index)}`;
    this.run(addAddressRequest(address), describe);
  }

  deleteAddress(address: AddressSelector): void {
    const describe = () => `delete address ${formatAddress(address)} from ${this.nameOf(address.index)}`;
    this.run(deleteAddressRequest(address), describe);
  }

  // Routes

  /**
   * Routes of one table (default: main; RT_TABLE_UNSPEC (0) for every table), optionally only
   * those of one family or through one output interface. Cached routes are left out.
   */
  routes(filter: { family?: IpFamily; table?: number; index?: number } = {}): RouteEntry[] {
    const table = filter.table ?? RT_TABLE_MAIN;
    return this.list(dumpRoutesRequest(filter.family), "list routes", decodeRoute).filter(
      (route) =>
        matches(filter.family, route.family) &&
        (table === RT_TABLE_UNSPEC || route.table === table) &&
        matches(filter.index, route.index),
    );
  }

  addRoute(route: NewRoute, mode: RouteAddMode = "exclusive"): void {
    const verb = mode === "replace" ? "replace" : "add";
    const describe = () => `${verb} route ${describeRoute(route, (index) => this.nameOf(index))}`;
    this.run(addRouteRequest(route, mode), describe);
  }

  deleteRoute(route: RouteSelector): void {
    this.run(deleteRouteRequest(route), () => `delete route ${describeRoute(route, (index) => this.nameOf(index))}`);
  }

  // Neighbours

  neighbours(filter: { index?: number; family?: IpFamily } = {}): Neighbour[] {
    return this.list(dumpNeighboursRequest(filter.family), "list neighbours", decodeNeighbour).filter(
      (neighbour) => matches(filter.index, neighbour.index) && matches(filter.family, neighbour.family),
    );
  }

  /** Adds the entry, or replaces one for the same address. */
  addNeighbour(neighbour: NewNeighbour): void {
    this.run(
      addNeighbourRequest(neighbour),
      () => `add neighbour ${neighbour.address} lladdr ${neighbour.mac} on ${this.nameOf(neighbour.index)}`,
    );
  }

  deleteNeighbour(neighbour: NeighbourSelector): void {
    const describe = () => `delete neighbour ${neighbour.address} on ${this.nameOf(neighbour.index)}`;
    this.run(deleteNeighbourRequest(neighbour), describe);
  }

  // Policy routing rules

  rules(family: IpFamily): Rule[] {
    return this.list(dumpRulesRequest(family), `list IPv${family} rules`, decodeRule);
  }

  addRule(rule: NewRule): void {
    this.run(addRuleRequest(rule), () => `add rule ${describeRule(rule)}`);
  }

  deleteRule(rule: RuleSelector): void {
    this.run(deleteRuleRequest(rule), () => `delete rule ${describeRule(rule)}`);
  }

  // Requests of other rtnetlink families (traffic control in lib/tc), built by their own codecs

  /**
   * Sends a request with NLM_F_ACK and returns the messages the kernel sent before the
   * acknowledgement; throws NetlinkError (with describe's words) when the kernel refuses it.
   */
  command(req: Request, describe: Describe): NetlinkMessage[] {
    return this.socket.command(req, describe);
  }

  /** Sends an NLM_F_DUMP request and returns every message of the dump, undecoded. */
  dump(req: Request, describe: Describe): NetlinkMessage[] {
    return this.socket.dump(req, describe);
  }

  private run(req: Request, describe: Describe): void {
    this.socket.command(req, describe);
  }

  /** Dumps and decodes, leaving out what the decoder skips (other families, cached routes). */
  private list<T>(req: Request, what: string, decode: (message: NetlinkMessage) => T | undefined): T[] {
    return this.socket
      .dump(req, () => what)
      .map(decode)
      .filter((item): item is T => item !== undefined);
  }

  private getLink(by: { name: string } | { index: number }, describe: Describe): Link | undefined {
    try {
      const [reply] = this.socket.command(getLinkRequest(by), describe);
      return reply && decodeLink(reply);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private changeBridgeVlan(action: "add" | "delete", index: number, vlan: BridgeVlanChange): void {
    const describe = () =>
      `${action} VLAN ${vlan.vid} ${action === "add" ? "to" : "from"} bridge port ${this.nameOf(index)}`;
    try {
      this.run(bridgeVlanRequest(action, index, vlan), describe);
    } catch (error) {
      // Without CONFIG_BRIDGE_VLAN_FILTERING the bridge refuses VLAN changes with a bare EOPNOTSUPP.
      const explained = this.explainBridgeRefusal(index, error);
      throw explained === error && isNotSupported(error) && !error.extack
        ? error.asMissingFeature("bridge VLAN filtering")
        : explained;
    }
  }

  /**
   * The kernel answers a bare EOPNOTSUPP when an AF_BRIDGE request targets a link that is neither
   * a bridge port nor a bridge; say so instead of leaving it to look like a missing feature.
   */
  private explainBridgeRefusal(index: number, error: unknown): unknown {
    if (!isNotSupported(error) || error.extack) return error;
    const link = this.linkByIndex(index);
    if (link?.bridgePort || link?.kind === "bridge") return error;
    return new NetlinkError(`${error.operation}: ${link?.name ?? `ifindex ${index}`} is not a bridge port`, error.errno);
  }

  /** A link's name for error messages; only called after a failure. */
  private nameOf(index: number): string {
    try {
      return this.linkByIndex(index)?.name ?? `ifindex ${index}`;
    } catch {
      return `ifindex ${index}`;
    }
  }
}

/** A filter field left out matches everything. */
function matches<T>(wanted: T | undefined, actual: T | undefined): boolean {
  return wanted === undefined || actual === wanted;
}
