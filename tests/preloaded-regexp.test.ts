import test from "ava";
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import { transformSync } from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

// No preloaded module makes a RegExp while it is loaded (a module constant, or
// one inside a module-level object). On the boards such a RegExp is made at
// build time, and each exec of it gets its match state from c_malloc, which
// XS's collector then treats as one of its chunks: a collection during the
// exec rewrites the block's neighbour and the slot's pointer (the Pico W app
// read address 0x51 at its second boot), and the block is never freed
// (README, "Preloaded regular expressions"). A literal inside a function is
// compiled when it runs, into the heap, and is safe.

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

// None left: the last one, device/identity's UUID pattern, is now a literal in loadSerialNumber.
const KNOWN: string[] = [];

// Every RegExp a module makes while it is evaluated, as "file: /pattern/".
export function moduleLevelRegExps(file: string, source: string): string[] {
  // An XS host function's declaration (`function f() @ "xs_f";`) is not JavaScript.
  const ts = source.replace(/(\)[^;{()]*?)@\s*"[^"]*"\s*;/g, "$1 {}");
  const js = transformSync(ts, { loader: "ts", format: "esm", target: "es2022" }).code;
  const ast = acorn.parse(js, { ecmaVersion: "latest", sourceType: "module" });
  const found: string[] = [];
  // Code under a function (or a class field, evaluated per instance) runs later, at run time.
  const deferred = (ancestors: acorn.Node[]) =>
    ancestors.some((a) => /Function/.test(a.type) || a.type === "PropertyDefinition" || a.type === "MethodDefinition");
  walk.ancestor(ast, {
    Literal(node, _state, ancestors) {
      const regex = (node as acorn.Literal).regex;
      if (regex && !deferred(ancestors)) found.push(`${file}: /${regex.pattern}/`);
    },
    NewExpression(node, _state, ancestors) {
      const callee = (node as acorn.NewExpression).callee;
      if (callee.type === "Identifier" && callee.name === "RegExp" && !deferred(ancestors)) found.push(`${file}: new RegExp`);
    },
  });
  return found;
}

function preloaded(manifestFile: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, manifestFile), "utf8"));
  const platforms = Object.values(manifest.platforms ?? {}) as Array<{ preload?: string[] }>;
  return [...(manifest.preload ?? []), ...platforms.flatMap((p) => p.preload ?? [])];
}

test("no preloaded module makes a RegExp while it is loaded", (t) => {
  const modules = [...new Set([...preloaded("manifest.json"), ...preloaded("manifest_bench.json")])].filter((m) => !m.includes(":"));
  t.true(modules.length > 50, `${modules.length} preloaded modules`);
  const found: string[] = [];
  for (const m of modules) {
    const file = [".ts", ".js"].map((ext) => m + ext).find((f) => fs.existsSync(path.join(root, f)));
    if (file === undefined) return t.fail(`${m}: preloaded, but neither ${m}.ts nor ${m}.js exists`);
    found.push(...moduleLevelRegExps(file, fs.readFileSync(path.join(root, file), "utf8")));
  }
  t.deepEqual(found, KNOWN, "write the literal where it is used, inside the function");
});

test("the check sees a module constant and a RegExp in a module-level object, and passes literals in functions", (t) => {
  const source = [
    `const A = /^a$/;`,
    `export const TABLE = [{ re: /^b$/ }];`,
    `const C = new RegExp("c");`,
    `export function f(s: string): boolean { return /^d$/.test(s); }`,
    `const g = (s: string) => /^e$/.test(s);`,
    `class H { private readonly i = /^i$/; m(): RegExp { return /^j$/; } }`,
    `export function host(): number @ "xs_host";`,
  ].join("\n");
  t.deepEqual(moduleLevelRegExps("x.ts", source), ["x.ts: /^a$/", "x.ts: /^b$/", "x.ts: new RegExp"]);
});
