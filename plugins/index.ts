/**
 * Every plugin of the suite, by the name it is installed and invoked under. Each entry loads its
 * module only when that plugin runs, so a process pays for one plugin's code alone.
 */
export const pluginLoaders = {
  bandwidth: () => import("./bandwidth/index.ts"),
  bridge: () => import("./bridge/index.ts"),
  dhcp: () => import("./dhcp/index.ts"),
  firewall: () => import("./firewall/index.ts"),
  "host-local": () => import("./host-local/index.ts"),
  loopback: () => import("./loopback/index.ts"),
  portmap: () => import("./portmap/index.ts"),
  sbr: () => import("./sbr/index.ts"),
  static: () => import("./static/index.ts"),
  tuning: () => import("./tuning/index.ts"),
  vrf: () => import("./vrf/index.ts"),
};

export type PluginName = keyof typeof pluginLoaders;
