/**
 * tuning: a chained plugin that changes sysctls in the container namespace and the MAC address,
 * MTU, promiscuous mode, all-multicast mode and transmit queue length of the interface an
 * earlier plugin created. It saves the interface's original values on ADD and puts them back
 * on DEL, and passes the previous result on with the new MAC.
 */
import { Rtnetlink } from "../../lib/netlink/index.ts";
import { NetNS, NetNSNotFound } from "../../lib/netns/index.ts";
import {
  CniError,
  ErrorCode,
  Rollback,
  definePlugin,
  invalidConfig,
  invalidEnvironment,
  log,
  type AttachmentRequest,
} from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { readAllowlist, requireAllowed } from "./allowlist.ts";
import { parseTuningConfig, resolveTuningSettings, tuningConfigSchema, type LinkSettings, type TuningNetConf, type TuningSettings } from "./config.ts";
import { applyLinkSettings, checkLinkSettings, restoreLinkSettings, snapshot, type RestoreFailure } from "./link-settings.ts";
import { collectSavedStates, prepareDataDir, readSavedState, removeSavedState, savedStatePath, writeSavedState, type SavedState } from "./saved-state.ts";
import { applySysctls, checkSysctls } from "./sysctls.ts";

type TuningRequest = AttachmentRequest<TuningNetConf>;

export default definePlugin<TuningNetConf>({
  name: "tuning",
  about: "CNI tuning plugin: sets sysctls and interface settings in the container namespace",
  configSchema: tuningConfigSchema,
  parseConfig: parseTuningConfig,

  async add(request) {
    const settings = resolveSettings(request);
    if (settings.sysctls.length > 0) {
      const allowlist = readAllowlist();
      if (allowlist) requireAllowed(settings.sysctls.map((sysctl) => sysctl.key), allowlist);
    }
    const prevResult = requirePrevResult(request);
    if (hasLinkSettings(settings.link)) prepareDataDir(request.config.dataDir);
    return withContainer(request.netns, (netns, container) =>
      Rollback.guard(async (rollback) => {
        applySysctls(netns, settings.sysctls, rollback);
        if (hasLinkSettings(settings.link)) tuneLink(request, container, settings.link, rollback);
        return withTunedInterface(prevResult, request, settings.link);
      }),
    );
  },

  async del(request) {
    const path = savedStatePath(request.config.dataDir, request);
    const saved = readSavedState(path);
    if (!saved.found) return;
    if ("corrupt" in saved) {
      log(`tuning: removing unreadable saved settings ${path} (${saved.corrupt}); nothing restored`);
      removeSavedState(path);
      return;
    }
    const failures = restoreInNamespace(request, saved.state);
    if (failures.length > 0) {
      const described = failures.map((failure) => failure.message).join("; ");
      // Failing DEL would stop the runtime from deleting the rest of the chain. A failure that a
      // later DEL might overcome keeps the file (GC removes it); values the kernel refuses never will.
      if (failures.some((failure) => !failure.refused)) {
        log(`tuning: ${request.ifname} in ${request.netns}: ${described}; keeping ${path}`);
        return;
      }
      log(`tuning: ${request.ifname} in ${request.netns}: ${described}; the kernel refuses these values, so they stay as they are`);
    }
    removeSavedState(path);
  },

  async check(request) {
    const settings = resolveSettings(request);
    requirePrevResult(request);
    await withContainer(request.netns, async (netns, container) => {
      checkSysctls(netns, settings.sysctls);
      if (hasLinkSettings(settings.link)) {
        const link = container.linkByName(request.ifname);
        if (!link) throw new CniError(ErrorCode.CheckFailed, `interface ${request.ifname} not found in ${request.netns}`);
        checkLinkSettings(link, settings.link);
      }
    });
  },

  async status() {
    try {
      readAllowlist();
    } catch (error) {
      throw new CniError(ErrorCode.NotAvailable, `ADD with sysctls would fail: ${(error as Error).message}`);
    }
  },

  async gc(request) {
    // Without the list, every attachment would look stale.
    if (!request.config.listsValidAttachments) return;
    const failures = collectSavedStates(request.config.dataDir, request.config.name, request.validAttachments);
    if (failures.length > 0) throw new CniError(ErrorCode.IoFailure, `GC: ${failures.join("; ")}`);
  },
});

function resolveSettings(request: TuningRequest): TuningSettings {
  return resolveTuningSettings(request.config, request.args, request.ifname, request.stdin.toString("utf8"));
}

function requirePrevResult(request: TuningRequest): Result {
  if (!request.prevResult) {
    throw invalidConfig("prevResult", undefined, "tuning is a chained plugin and needs the result of the plugin before it");
  }
  return request.prevResult;
}

function hasLinkSettings(settings: LinkSettings): boolean {
  return Object.keys(settings).length > 0;
}

async function withContainer<T>(netnsPath: string, work: (netns: NetNS, container: Rtnetlink) => Promise<T>): Promise<T> {
  const netns = NetNS.open(netnsPath);
  try {
    const container = Rtnetlink.openIn(netns);
    try {
      return await work(netns, container);
    } finally {
      container.close();
    }
  } finally {
    netns.close();
  }
}

/** Saves the interface's current values of what is configured, then changes them. */
function tuneLink(request: TuningRequest, container: Rtnetlink, settings: LinkSettings, rollback: Rollback): void {
  const link = container.linkByName(request.ifname);
  if (!link) {
    throw invalidEnvironment("CNI_IFNAME", `no interface ${request.ifname} in ${request.netns}: tuning changes an interface an earlier plugin of the chain made`);
  }
  const path = savedStatePath(request.config.dataDir, request);
  const saved = { ...snapshot(link, settings), network: request.config.name };
  writeSavedState(path, saved);
  rollback.add(`${request.ifname}'s settings`, () => {
    const failures = restoreLinkSettings(container, link, saved);
    if (failures.length > 0) throw new Error(failures.map((failure) => failure.message).join("; "));
    removeSavedState(path);
  });
  applyLinkSettings(container, link, settings);
}

/**
 * prevResult with the container interface's new MAC (and MTU, where the entry lists one).
 * Only entries inside a sandbox are the container's: a host interface may share the name.
 */
function withTunedInterface(prevResult: Result, request: TuningRequest, settings: LinkSettings): Result {
  const interfaces = prevResult.interfaces?.map((entry) => {
    if (entry.name !== request.ifname || !entry.sandbox) return entry;
    return {
      ...entry,
      ...(settings.mac !== undefined && { mac: settings.mac }),
      ...(settings.mtu !== undefined && entry.mtu !== undefined && { mtu: settings.mtu }),
    };
  });
  return interfaces ? { ...prevResult, interfaces } : prevResult;
}

/** DEL: nothing to restore when the namespace or the interface is gone; returns restore failures. */
function restoreInNamespace(request: TuningRequest, saved: SavedState): RestoreFailure[] {
  if (!request.netns) return [];
  let netns: NetNS;
  try {
    netns = NetNS.open(request.netns);
  } catch (error) {
    if (error instanceof NetNSNotFound) return [];
    throw error;
  }
  const container = Rtnetlink.openIn(netns);
  try {
    const link = container.linkByName(request.ifname);
    return link ? restoreLinkSettings(container, link, saved) : [];
  } finally {
    container.close();
    netns.close();
  }
}
