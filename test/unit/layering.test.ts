/**
 * The house the imports draw (README.md, "Layout"): modules import each other only through
 * their faces (index.ts), lib never imports plugins/, and every import between lib modules goes
 * down a layer, so there is no circle and no arrow running back up. A new lib module gets a
 * layer here before it can be imported.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

/** Lower layers know nothing of higher ones; a module may import only from layers below its own. */
const LAYERS: Record<string, number> = {
  core: 0,
  sys: 0,
  ip: 0,
  types: 1,
  netns: 1,
  netlink: 2,
  skel: 2,
  tc: 3,
  link: 3,
  ipam: 3,
  firewall: 3,
  invoke: 3,
  dhcp: 3,
  runtime: 4,
  install: 5,
};

/** The one file that wires plugins into the executable: it may import anything's face. */
const ENTRY_POINT = "lib/main.ts";
/** The list of plugins, each loaded by its face. */
const REGISTRY = "plugins/index.ts";

interface Import {
  file: string;
  /** The imported file, relative to the repository root. */
  target: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
}

/** Every relative import, export-from and dynamic import() of the file. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)"(\.{1,2}\/[^"]+)"/gm)].map((match) => match[1]!);
  return specifiers.map((specifier) => ({ file, target: normalize(join(dirname(file), specifier)) }));
}

/** "lib/netlink" for lib/netlink/socket.ts, "plugins/bridge" for plugins/bridge/port.ts; the file itself for top-level files. */
function moduleOf(file: string): string {
  const parts = file.split("/");
  return parts.length > 2 ? parts.slice(0, 2).join("/") : file;
}

function isFace(target: string): boolean {
  return target.split("/").length === 3 && target.endsWith("/index.ts");
}

const libImports = sourceFiles("lib").flatMap(importsOf);
const pluginImports = sourceFiles("plugins").flatMap(importsOf);
const crossModule = (imports: Import[]) => imports.filter(({ file, target }) => moduleOf(file) !== moduleOf(target));
const describeImport = ({ file, target }: Import) => `${file} -> ${relative(ROOT, join(ROOT, target))}`;

describe("the module house", () => {
  it("lets plugins import lib modules only through their index.ts", () => {
    const deep = crossModule(pluginImports).filter(({ target }) => target.startsWith("lib/") && !isFace(target));
    expect(deep.map(describeImport)).toEqual([]);
  });

  it("keeps each plugin to itself: no plugin imports another plugin or the plugin registry", () => {
    const across = crossModule(pluginImports).filter(({ file, target }) => file !== REGISTRY && target.startsWith("plugins/"));
    expect(across.map(describeImport)).toEqual([]);
  });

  it("lets lib modules import each other only through index.ts", () => {
    const deep = crossModule(libImports).filter(({ target }) => target.startsWith("lib/") && !isFace(target) && target !== ENTRY_POINT);
    expect(deep.map(describeImport)).toEqual([]);
  });

  it("never lets lib import plugins/, except the entry point that wires them in", () => {
    const upward = libImports.filter(({ file, target }) => target.startsWith("plugins/") && file !== ENTRY_POINT);
    expect(upward.map(describeImport)).toEqual([]);
  });

  it("gives every lib module a layer", () => {
    const modules = new Set(sourceFiles("lib").map(moduleOf).filter((module) => module !== ENTRY_POINT));
    const unplaced = [...modules].filter((module) => LAYERS[module.slice("lib/".length)] === undefined);
    expect(unplaced, "add the new module to LAYERS (and to README.md's Layout)").toEqual([]);
  });

  it("points every import between lib modules down a layer, so the house has no circle and no upward arrow", () => {
    const layerOf = (file: string) => LAYERS[moduleOf(file).slice("lib/".length)]!;
    const wrongWay = crossModule(libImports)
      .filter(({ file, target }) => file !== ENTRY_POINT && target.startsWith("lib/"))
      .filter(({ file, target }) => layerOf(target) >= layerOf(file))
      .map((entry) => `${describeImport(entry)} (layer ${layerOf(entry.file)} -> ${layerOf(entry.target)})`);
    expect(wrongWay).toEqual([]);
  });

  it("sees the imports it judges: the scan finds the bridge plugin's face imports and the entry point's", () => {
    expect(pluginImports.map(describeImport)).toContain("plugins/bridge/index.ts -> lib/link/index.ts");
    expect(libImports.map(describeImport)).toContain("lib/main.ts -> plugins/index.ts");
  });
});
