/**
 * Why `cni install` could not do its job, said so that whoever reads a pod's log knows what to
 * change (a flag, a mount, an RBAC rule, a file in the way).
 */
export class InstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstallError";
  }
}

/** What the installer did to one file. */
export interface FileChange {
  path: string;
  action: "installed" | "replaced" | "removed";
  /** Why, or what was there before. */
  detail?: string;
}
