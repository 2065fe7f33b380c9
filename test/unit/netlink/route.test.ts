import { describe, expect, it } from "vitest";
import { RT_SCOPE_HOST, RTM_NEWROUTE, RTN_LOCAL } from "../../../lib/netlink/constants.ts";
import { encodeRequest } from "../../../lib/netlink/message.ts";
import { addRouteRequest, decodeRoute, deleteRouteRequest, type RouteAddMode } from "../../../lib/netlink/route.ts";
import { expectSameBytesAsIproute2, hex, kernelMessages } from "./fixtures.ts";

describe("routes encode what `ip route` sends", () => {
  it("a route in a table above 255 with metric, mtu and advmss", () => {
    const req = addRouteRequest({
      dst: "10.9.0.0/16",
      gateway: "10.1.0.1",
      index: 3,
      table: 1000,
      priority: 100,
      mtu: 1400,
      advmss: 1360,
    });
    expectSameBytesAsIproute2(req, "route");
  });

  it("a link route, which gets scope link", () => {
    expectSameBytesAsIproute2(addRouteRequest({ dst: "10.8.0.0/16", index: 3 }), "routelink");
  });

  it("an IPv4 default route", () => {
    expectSameBytesAsIproute2(addRouteRequest({ dst: "0.0.0.0/0", gateway: "10.1.0.1", index: 3 }), "defroute4");
  });

  it("a deletion, matching any protocol, scope and type", () => {
    const req = deleteRouteRequest({ dst: "10.9.0.0/16", gateway: "10.1.0.1", index: 3, table: 1000, priority: 100 });
    expectSameBytesAsIproute2(req, "routedel");
  });
});

describe("routes, beyond what was captured from iproute2", () => {
  it("an IPv6 default route leaves RTA_DST out (iproute2 sends ::, which means the same)", () => {
    const req = addRouteRequest({ dst: "::/0", gateway: "fd00::1", index: 3, priority: 1024 });
    expect(hex(encodeRequest(req, 1)).slice(32)).toBe(
      "0a000000fe030001" + "00000000" + // rtmsg: AF_INET6, main, boot, universe, unicast
        "14000500fd000000000000000000000000000001" + // RTA_GATEWAY
        "0800060000040000" + // RTA_PRIORITY 1024
        "0800040003000000", // RTA_OIF 3
    );
  });

  it("replace asks for NLM_F_REPLACE instead of NLM_F_EXCL, and beside for neither", () => {
    const flags = (mode?: RouteAddMode) =>
      hex(encodeRequest(addRouteRequest({ dst: "10.8.0.0/16", index: 3 }, mode), 1)).slice(12, 16);
    expect(flags()).toBe("0506"); // REQUEST | ACK | EXCL | CREATE
    expect(flags("replace")).toBe("0505"); // REQUEST | ACK | REPLACE | CREATE
    expect(flags("beside")).toBe("0504"); // REQUEST | ACK | CREATE
  });

  it("onlink, a preferred source and a local route's host scope", () => {
    const req = addRouteRequest({ dst: "10.1.0.5/32", index: 3, type: RTN_LOCAL, src: "10.1.0.5", onlink: true, table: 255 });
    const bytes = hex(encodeRequest(req, 1));
    // rtmsg: AF_INET /32, table 255, boot, scope host (254), local, RTNH_F_ONLINK
    expect(bytes.slice(32, 56)).toBe("02200000" + "ff03fe02" + "04000000");
    expect(bytes).toContain("080007000a010005"); // RTA_PREFSRC 10.1.0.5
  });

  it("refuse a gateway of the other family", () => {
    expect(() => addRouteRequest({ dst: "10.8.0.0/16", gateway: "fd00::1" })).toThrow(
      "route 10.8.0.0/16: gateway fd00::1 is not an IPv4 address",
    );
  });
});

describe("decoding a kernel route dump", () => {
  const routes = kernelMessages("routes-dump")
    .filter((m) => m.type === RTM_NEWROUTE)
    .map(decodeRoute);
  const find = (dst: string, table = 254) => routes.find((r) => r?.dst === dst && r.table === table);

  it("reads a route in table 1000 with gateway, metric, protocol, mtu and advmss", () => {
    expect(find("10.9.0.0/16", 1000)).toEqual({
      family: 4,
      dst: "10.9.0.0/16",
      gateway: "10.1.0.1",
      index: 2,
      table: 1000,
      scope: 0,
      priority: 100,
      protocol: 4,
      type: 1,
      mtu: 1400,
      advmss: 1360,
      onlink: false,
    });
  });

  it("reads the default route as 0.0.0.0/0", () => {
    expect(find("0.0.0.0/0")).toMatchObject({ gateway: "10.1.0.1", index: 2, protocol: 3, scope: 0 });
  });

  it("reads link routes with scope link and their preferred source", () => {
    expect(find("10.1.0.0/24")).toMatchObject({ scope: 253, protocol: 2, src: "10.1.0.5", index: 2 });
    expect(find("10.8.0.0/16")).toMatchObject({ scope: 253, protocol: 3, src: "10.1.0.5" });
  });

  it("reads IPv6 routes with their metric", () => {
    expect(find("fd00:9::/64")).toMatchObject({ family: 6, gateway: "fd00::1", priority: 1024, index: 2 });
  });

  it("includes the local table", () => {
    expect(find("10.1.0.5/32", 255)).toMatchObject({ type: RTN_LOCAL, scope: RT_SCOPE_HOST });
  });
});
