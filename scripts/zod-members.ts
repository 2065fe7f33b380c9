/**
 * A bundler plugin that gives the executable only the parts of zod our code uses.
 *
 * Our sources write `import { z } from "zod"` and `z.object(...)`. `z` is zod's whole namespace,
 * so the bundle carries (and every plugin process evaluates at start-up) all of zod: every
 * schema kind, every locale, and a getter per export on the namespace object. That is ~3 ms of
 * each plugin's start-up (bench/README.md). This plugin reads the sources, collects the members
 * of `z` they use as values (types need nothing at run time), and resolves "zod" to a small
 * module exporting a `z` with exactly those members, imported by name, so the bundler drops the
 * rest. zod registers its English messages on first schema construction, not at import, so
 * error messages are unchanged.
 *
 * When the sources use `z` in a way that needs the real namespace (passed as a value, indexed
 * with brackets), the plugin leaves "zod" alone and says so.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BunPlugin } from "bun";
import ts from "typescript";

const NAMESPACE = "cni-ts-zod-members";

export interface ZodUsage {
  /** Members of `z` read as values somewhere (z.object, z.ZodObject for instanceof, ...). */
  members: string[];
  /** Where `z` is used otherwise than `z.member`, which only the full namespace supports. */
  otherUses: string[];
}

/** Finds how `z` (imported from "zod") is used in the .ts files under `dirs`. */
export function findZodUsage(dirs: readonly string[]): ZodUsage {
  const members = new Set<string>();
  const otherUses: string[] = [];
  for (const file of dirs.flatMap(typeScriptFiles)) {
    const text = readFileSync(file, "utf8");
    if (!text.includes('from "zod"')) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) {
        if ((node.moduleSpecifier as ts.StringLiteral).text === "zod") checkImport(node, file, otherUses);
        return;
      }
      if (ts.isIdentifier(node) && node.text === "z") classify(node, file, members, otherUses);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { members: [...members].sort(), otherUses };
}

/** Only `import { z } from "zod"` (or `import type`) can be served by the reduced module. */
function checkImport(node: ts.ImportDeclaration, file: string, otherUses: string[]): void {
  const clause = node.importClause;
  if (!clause || clause.isTypeOnly) return;
  const named = clause.namedBindings;
  const onlyZ = !clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.every((element) => element.name.text === "z" || element.isTypeOnly);
  if (!onlyZ) otherUses.push(`${file}: imports from "zod" other than { z }`);
}

function classify(node: ts.Identifier, file: string, members: Set<string>, otherUses: string[]): void {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.expression === node) {
    members.add(parent.name.text);
    return;
  }
  // Type positions (z.infer<...>, z.ZodType) and the import itself need nothing at run time.
  if (ts.isQualifiedName(parent) || ts.isTypeQueryNode(parent) || ts.isImportSpecifier(parent)) return;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return; // something.z
  if (ts.isPropertyAssignment(parent) && parent.name === node) return; // { z: ... }
  const { line } = node.getSourceFile().getLineAndCharacterOfPosition(node.getStart());
  otherUses.push(`${file}:${line + 1}: z used as a value`);
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/**
 * The reduced module: the used members, imported by name from zod's entry file (a path, which
 * the plugin's "zod" filter does not catch) so the bundler can drop the rest.
 */
export function reducedZodModule(members: readonly string[], zodEntry: string): string {
  const aliases = members.map((member, index) => `${member} as m${index}`);
  const entries = members.map((member, index) => `${JSON.stringify(member)}: m${index}`);
  return `import { ${aliases.join(", ")} } from ${JSON.stringify(zodEntry)};\nexport const z = { ${entries.join(", ")} };\n`;
}

/**
 * The plugin, or undefined when the sources need the whole namespace. `zodEntry` is zod's
 * resolved entry file, which the reduced module imports.
 */
export function zodMembersPlugin(usage: ZodUsage, zodEntry: string): BunPlugin | undefined {
  if (usage.otherUses.length > 0) return undefined;
  const contents = reducedZodModule(usage.members, zodEntry);
  return {
    name: "zod-members",
    setup(build) {
      build.onResolve({ filter: /^zod$/ }, () => ({ path: "zod", namespace: NAMESPACE }));
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, () => ({ contents, loader: "js" }));
    },
  };
}
