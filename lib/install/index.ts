/**
 * `cni install`: the node installer (the entry point of the image a DaemonSet runs). The
 * command, and the parts tests and other tools use on their own.
 */
export { DEFAULT_BIN_DIR, DEFAULT_CONF_DIR, DEFAULT_CONFLIST_NAME, runInstall, type CommandIO, type InstallerContext } from "./cli.ts";
export { MANIFEST_NAME } from "./conflist.ts";
export { InstallError, type FileChange } from "./errors.ts";
export { DEFAULT_TEMPLATE, PLACEHOLDERS, renderTemplate, type NodeValues } from "./template.ts";
