import { execFileSync } from "node:child_process";
import { DIST } from "./paths.ts";

/** Builds the suite once per test run: integration tests run the compiled executables. */
export default function setup(): void {
  if (process.env.CNI_SKIP_BUILD === "1") return;
  execFileSync("node_modules/.bin/bun", ["scripts/build.ts", "--outdir", DIST], { stdio: "inherit" });
}
