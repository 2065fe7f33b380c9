/** Traffic control over rtnetlink (no tc binary): tbf and ingress qdiscs, u32 redirect filters. */
export { TrafficControl, type Device, type TcSocket } from "./traffic-control.ts";
export { type PschedClock, PschedError, parsePsched, readPschedClock } from "./clock.ts";
export { type TbfParameters, type TbfRequest, describeTbf, tbfBurstBytes, tbfParameters } from "./tbf.ts";
export { INGRESS_HANDLE, type NewQdisc, type Qdisc, type QdiscPosition } from "./qdisc.ts";
export type { Filter, FilterAction, MirredAction, NewRedirectFilter, U32Key, U32Node } from "./filter.ts";
export { formatHandle, makeHandle } from "./handle.ts";
/** The parent of a device's root qdisc (lib/netlink keeps it with the other rtnetlink numbers). */
export { TC_H_ROOT } from "../netlink/index.ts";
