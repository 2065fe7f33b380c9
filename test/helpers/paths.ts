import { resolve } from "node:path";

/** Where the suite under test was built (CNI_DIST lets parallel runs build apart). */
export const DIST = resolve(process.env.CNI_DIST ?? "dist");
export const OUR_BIN = resolve(DIST, "bin");
/** Debian's containernetworking-plugins: the reference, our oracle. */
export const REFERENCE_BIN = "/usr/lib/cni";
