/**
 * The floor of this design: a program compiled exactly as the suite is (executable-build.ts)
 * that prints `{}` and exits. Its start-up time and peak RSS are what any plugin of ours costs
 * before doing anything, so every figure of ours is read as floor + work.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildExecutable } from "../executable-build.ts";
import type { BenchContext } from "./context.ts";
import { execPlugin, type Suite } from "./driver.ts";
import { summarize, type Summary } from "./stats.ts";

export const FLOOR_PROGRAM = "floor";

export interface Floor {
  /** Wall time per process through the driver, like every plugin call. */
  wall: Summary;
  cpu: Summary;
  /** Peak RSS of one run under /usr/bin/time (the largest of a few). */
  peakRssMiB: number;
  /** /bin/true through the same driver: what the driver itself adds to every call. */
  driverOverhead: Summary;
}

/** Compiles the empty program into `dir` and returns a suite whose only plugin is it (FLOOR_PROGRAM). */
export async function buildFloor(dir: string): Promise<Suite> {
  const source = join(dir, "floor.ts");
  writeFileSync(source, 'import { writeSync } from "node:fs";\nwriteSync(1, "{}");\n');
  await buildExecutable({ entrypoint: source, outfile: join(dir, FLOOR_PROGRAM) });
  return { id: "ours", bin: dir };
}

/** Runs the floor `iterations` times alternating with /bin/true, then a few times for peak RSS. */
export async function measureFloor(context: BenchContext, floor: Suite, iterations: number): Promise<Floor> {
  const trueSuite: Suite = { id: "reference", bin: "/bin" };
  const wall: number[] = [];
  const cpu: number[] = [];
  const overhead: number[] = [];
  for (let index = 0; index < iterations; index++) {
    const run = await execPlugin(floor, FLOOR_PROGRAM, "VERSION", "", undefined);
    wall.push(run.wallMs);
    cpu.push(run.cpuMs);
    overhead.push((await execPlugin(trueSuite, "true", "VERSION", "", undefined)).wallMs);
  }
  const rssFile = join(context.host.tempDir("floor-rss"), "rss");
  const timed: Suite = { ...floor, wrap: () => ["/usr/bin/time", "-f", "%M", "-a", "-o", rssFile] };
  for (let index = 0; index < 5; index++) await execPlugin(timed, FLOOR_PROGRAM, "VERSION", "", undefined);
  const peaks = readFileSync(rssFile, "utf8")
    .split("\n")
    .filter((line) => /^\d+$/.test(line.trim()))
    .map((line) => Number(line) / 1024);
  return { wall: summarize(wall), cpu: summarize(cpu), peakRssMiB: Math.max(...peaks), driverOverhead: summarize(overhead) };
}
