/**
 * Every plugin of the suite, by the name it is installed and invoked under. Each entry loads its
 * module only when that plugin runs, so a process pays for one plugin's code alone.
 */
export const pluginLoaders = {
  bandwidth: () => import("./bandwidth/index.ts"),
  bridge: () => import("./bridge/index.ts"),
  dhcp: () => import("./dhcp/index.ts"),
  dummy: () => import("./dummy/index.ts"),
  firewall: () => import("./firewall/index.ts"),
  "host-device": () => import("./host-device/index.ts"),
  "host-local": () => import("./host-local/index.ts"),
  ipvlan: () => import("./ipvlan/index.ts"),
  loopback: () => import("./loopback/index.ts"),
  macvlan: () => import("./macvlan/index.ts"),
  portmap: () => import("./portmap/index.ts"),
  ptp: () => import("./ptp/index.ts"),
  sbr: () => import("./sbr/index.ts"),
  static: () => import("./static/index.ts"),
  tap: () => import("./tap/index.ts"),
  tuning: () => import("./tuning/index.ts"),
  vlan: () => import("./vlan/index.ts"),
  vrf: () => import("./vrf/index.ts"),
};

export type PluginName = keyof typeof pluginLoaders;
