/**
 * dummy: a dummy link inside the container carrying the IPAM plugin's addresses and routes. It
 * has no peer and reaches nothing; it gives a container an address of its own (a service
 * address, a source for traffic routed elsewhere).
 */
import { Ipam, ipamGc, ipamStatus } from "../../lib/invoke/index.ts";
import { applyIpamResult, createLink, releaseAndDeleteInterface, withAttachment, withDelAttachment, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode, Rollback, definePlugin, dnsIsSet, invalidEnvironment, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkAttachment } from "./check.ts";
import { dummyConfigSchema, parseDummyConfig, type DummyConfig } from "./config.ts";

export default definePlugin<DummyConfig>({
  name: "dummy",
  about: "CNI dummy plugin: a dummy link in the container with the IPAM plugin's addresses",
  configSchema: dummyConfigSchema,
  parseConfig: parseDummyConfig,

  add: (request) => withAttachment(request.netns, (attachment) => Rollback.guard((rollback) => addAttachment(request, attachment, rollback))),

  async del(request) {
    const ipam = Ipam.of(request);
    // A dummy link lives only in the container: the host holds nothing but the lease.
    await withDelAttachment(request.netns, (attachment) => releaseAndDeleteInterface(attachment, request.ifname, async () => ipam?.del()));
  },

  async check(request) {
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    await Ipam.of(request)?.check();
    await withAttachment(request.netns, (attachment) => checkAttachment(attachment, request.netns, request.ifname, prevResult));
  },

  status: (request) => ipamStatus(request),
  gc: (request) => ipamGc(request),
});

async function addAttachment(request: AttachmentRequest<DummyConfig>, attachment: Attachment, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const { container } = attachment;
  if (container.linkByName(ifname)) throw invalidEnvironment("CNI_IFNAME", `interface ${ifname} already exists in the container`);
  // Before IPAM: a kernel without dummy links (code 2) must not cost a lease.
  createLink(container, { kind: "dummy", name: ifname });
  const link = container.linkByName(ifname);
  if (!link) throw new CniError(ErrorCode.KernelOperationFailed, `dummy link ${ifname} vanished right after it was created`);
  rollback.add(`dummy ${ifname}`, () => container.deleteLink(link.index));

  // parseDummyConfig refused an ADD without an IPAM plugin.
  const ipamResult = await Ipam.of(request)!.add(rollback);
  const result: Result = {
    ...ipamResult,
    interfaces: [{ name: ifname, mac: link.mac, sandbox: request.netns }],
    ips: (ipamResult.ips ?? []).map((ipc) => ({ ...ipc, interface: 0 })),
  };
  await applyIpamResult(attachment, ifname, result);
  if (dnsIsSet(config.dns)) result.dns = config.dns;
  return result;
}
