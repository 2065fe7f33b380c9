import { type Describe, type NetlinkMessage, type Request } from "../netlink/index.ts";
import { type Filter, type NewRedirectFilter, addRedirectFilterRequest, decodeFilter, dumpFiltersRequest } from "./filter.ts";
import { formatHandle } from "./handle.ts";
import {
  type NewQdisc,
  type Qdisc,
  type QdiscPosition,
  addQdiscRequest,
  decodeQdisc,
  deleteQdiscRequest,
  dumpQdiscsRequest,
} from "./qdisc.ts";
import { describeTbf } from "./tbf.ts";

/** What TrafficControl needs of a socket: an Rtnetlink (lib/netlink) is one. */
export interface TcSocket {
  command(req: Request, describe: Describe): NetlinkMessage[];
  dump(req: Request, describe: Describe): NetlinkMessage[];
}

/** A network device by index, with its name for error messages (a lib/netlink Link is one). */
export interface Device {
  readonly index: number;
  readonly name: string;
}

/**
 * Qdiscs and filters of the devices of one network namespace, over the rtnetlink socket opened
 * there. Failures throw NetlinkError naming the operation and device.
 */
export class TrafficControl {
  constructor(private readonly socket: TcSocket) {}

  /** The device's qdiscs, its root first. */
  qdiscs(device: Device): Qdisc[] {
    return this.socket
      .dump(dumpQdiscsRequest(device.index), () => `list qdiscs of ${device.name}`)
      .map(decodeQdisc)
      .filter((qdisc) => qdisc.index === device.index);
  }

  addQdisc(device: Device, qdisc: NewQdisc): void {
    const what =
      qdisc.kind === "ingress"
        ? "ingress"
        : `tbf ${formatHandle(qdisc.handle)} parent ${formatHandle(qdisc.parent)} (${describeTbf(qdisc.tbf)})`;
    this.socket.command(addQdiscRequest(device.index, qdisc), () => `add qdisc ${what} to ${device.name}`);
  }

  deleteQdisc(device: Device, position: QdiscPosition): void {
    this.socket.command(deleteQdiscRequest(device.index, position), () => `delete ${position} qdisc of ${device.name}`);
  }

  /** The device's filters under one qdisc (ffff: for its ingress qdisc). */
  filters(device: Device, parent: number): Filter[] {
    return this.socket
      .dump(dumpFiltersRequest(device.index, parent), () => `list filters of ${device.name} under ${formatHandle(parent)}`)
      .map(decodeFilter);
  }

  addRedirectFilter(device: Device, filter: NewRedirectFilter): void {
    const describe = () =>
      `add filter to ${device.name} (u32 match-all under ${formatHandle(filter.parent)}, redirect to ifindex ${filter.target})`;
    this.socket.command(addRedirectFilterRequest(device.index, filter), describe);
  }
}
