/**
 * tuning: a chained plugin that changes sysctls in the container namespace and the MAC address,
 * MTU, promiscuous mode, all-multicast mode and transmit queue length of the interface an
 * earlier plugin created. It saves the interface's original values on ADD and puts them back
 * on DEL, and passes the previous result on with the new MAC.
 */
import { withAttachment, withDelAttachment } from "../../lib/link/index.ts";
import type { Rtnetlink } from "../../lib/netlink/index.ts";
import {
  CniError,
  ErrorCode,
  Rollback,
  definePlugin,
  invalidEnvironment,
  log,
  requirePrevResult,
  type AttachmentRequest,
} from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { readAllowlist, requireAllowed } from "./allowlist.ts";
import { parseTuningConfig, tuningConfigSchema, type LinkSettings, type TuningNetConf } from "./config.ts";
import { applyLinkSettings, checkLinkSettings, restoreLinkSettings, snapshot } from "./link-settings.ts";
import { collectSavedStates, prepareDataDir, readSavedState, removeSavedState, savedStatePath, writeSavedState } from "./saved-state.ts";
import { applySysctls, checkSysctls } from "./sysctls.ts";

type TuningRequest = AttachmentRequest<TuningNetConf>;

const NEEDS_PREV_RESULT = "tuning is a chained plugin and needs the result of the plugin before it";

export default definePlugin<TuningNetConf>({
  name: "tuning",
  about: "CNI tuning plugin: sets sysctls and interface settings in the container namespace",
  configSchema: tuningConfigSchema,
  parseConfig: parseTuningConfig,

  async add(request) {
    const { settings } = request.config;
    if (settings.sysctls.length > 0) {
      const allowlist = readAllowlist();
      if (allowlist) requireAllowed(settings.sysctls.map((sysctl) => sysctl.key), allowlist);
    }
    const prevResult = requirePrevResult(request, NEEDS_PREV_RESULT);
    if (hasLinkSettings(settings.link)) prepareDataDir(request.config.dataDir);
    return withAttachment(request.netns, ({ netns, container }) =>
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
    // Nothing to restore when the container side or the interface is gone.
    const outcome = await withDelAttachment(request.netns, ({ container }) => {
      const link = container?.linkByName(request.ifname);
      return container && link ? restoreLinkSettings(container, link, saved.state) : undefined;
    });
    if (outcome && outcome.failures.errors.length > 0) {
      const { failures, worthRetrying } = outcome;
      const described = failures.errors.map((failure) => failure.message).join("; ");
      // Failing DEL would stop the runtime from deleting the rest of the chain. A failure that a
      // later DEL might overcome keeps the file (GC removes it); values the kernel refuses never will.
      if (worthRetrying) {
        log(`tuning: ${request.ifname} in ${request.netns}: ${described}; keeping ${path}`);
        return;
      }
      log(`tuning: ${request.ifname} in ${request.netns}: ${described}; the kernel refuses these values, so they stay as they are`);
    }
    removeSavedState(path);
  },

  async check(request) {
    const { settings } = request.config;
    requirePrevResult(request, NEEDS_PREV_RESULT);
    await withAttachment(request.netns, ({ netns, container }) => {
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

function hasLinkSettings(settings: LinkSettings): boolean {
  return Object.keys(settings).length > 0;
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
    restoreLinkSettings(container, link, saved).failures.throwIfAny(`restore ${request.ifname}`);
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
