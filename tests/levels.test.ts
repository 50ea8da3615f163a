import test from "ava";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

// The tree's rules (../shared/DESIGN.md, the README's layout), checked on
// every relative import in modules/, hosts/ and tools/:
// - a folder of modules/ imports only folders on a LOWER level, so the print
//   layer never depends on a front end and two folders of one level never
//   lean on each other (the printer/ wiring joins them);
// - modules/ imports only modules/; hosts/ never imports tools/ or tests/
//   (npm start composes the host and the emulator in tools/launcher);
//   tools/ never imports tests/;
// - no import cycle of values anywhere, and none at all in hosts/ or in the
//   printer/ wiring (a type-only cycle inside a codec folder is harmless).
// Each problem names the file and line.

// The one table of levels. The README's layout section says the same, and a
// test below holds the two together.
const LEVELS: Record<string, number> = {
  hal: 1, crypto: 1, text: 1, pwg: 1, jpeg: 1,
  urf: 2, "ipp-codec": 2, http: 2, dns: 2, jobs: 2, storage: 2, escpos: 2, sntp: 2, xmpp: 2, device: 2,
  print: 3, wifi: 3,
  privet: 4, cloud: 4, ipp: 4, web: 4,
  printer: 5,
};

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Import { file: string; line: number; text: string; target: string; typeOnly: boolean }

function sources(dir: string): string[] {
  const found: string[] = [];
  if (!fs.existsSync(dir)) return found;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sources(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(full);
  }
  return found;
}

// Every relative import, re-export and dynamic import of the files under
// top, with its target as a path from tree (".js" read as the ".ts" source).
function imports(tree: string, top: string): Import[] {
  const found: Import[] = [];
  for (const file of sources(path.join(tree, top))) {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines.forEach((text, i) => {
      for (const match of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"(\.[^"]+)"/g)) {
        const target = path.relative(tree, path.resolve(path.dirname(file), match[1])).replace(/\.js$/, ".ts");
        const typeOnly = /^\s*(?:import|export)\s+type\b/.test(text) || /^\s*import\s*\{\s*(?:type\s+\w+\s*,?\s*)+\}/.test(text);
        found.push({ file: path.relative(tree, file), line: i + 1, text: text.trim(), target, typeOnly });
      }
    });
  }
  return found;
}

const where = (i: Import) => `${i.file}:${i.line}: ${i.text}`;
const topOf = (p: string) => p.split(path.sep)[0];
const folderOf = (p: string) => p.split(path.sep)[1];

function levelProblems(tree: string, levels: Record<string, number>): string[] {
  const problems: string[] = [];
  const modules = path.join(tree, "modules");
  for (const folder of fs.existsSync(modules) ? fs.readdirSync(modules) : []) {
    if (!fs.statSync(path.join(modules, folder)).isDirectory()) continue;
    if (levels[folder] === undefined) problems.push(`modules/${folder}/ has no level: add it to the table in tests/levels.test.ts and to the README's layout`);
  }
  for (const i of imports(tree, "modules")) {
    if (topOf(i.target) !== "modules") { problems.push(`${where(i)} (modules/ imports only modules/)`); continue; }
    const from = folderOf(i.file);
    const to = folderOf(i.target);
    if (from === to) continue;
    const a = levels[from];
    const b = levels[to];
    if (a !== undefined && !(b !== undefined && b < a)) problems.push(`${where(i)} (${from}/ is level ${a}, ${to}/ is level ${b ?? "unknown"}: only lower levels)`);
  }
  return problems;
}

function treeProblems(tree: string): string[] {
  const forbidden: Record<string, string[]> = { hosts: ["tools", "tests"], tools: ["tests"] };
  const problems: string[] = [];
  for (const [from, tops] of Object.entries(forbidden)) {
    for (const i of imports(tree, from)) {
      if (tops.includes(topOf(i.target))) problems.push(`${where(i)} (${from}/ never imports ${topOf(i.target)}/)`);
    }
  }
  return problems;
}

// Cycles among files, as strongly connected components of the import graph;
// each is named by one of its imports, file and line.
function cycleProblems(tree: string): string[] {
  const all = ["modules", "hosts", "tools"].flatMap((top) => imports(tree, top));
  const strict = (file: string) => topOf(file) === "hosts" || (topOf(file) === "modules" && folderOf(file) === "printer");
  const edges = new Map<string, Import[]>();
  for (const i of all) {
    if (i.typeOnly && !(strict(i.file) && strict(i.target))) continue;
    if (!edges.has(i.file)) edges.set(i.file, []);
    edges.get(i.file)!.push(i);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const problems: string[] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const edge of edges.get(v) ?? []) {
      const w = edge.target;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length < 2) return;
    const members = new Set(component);
    const lines = component.flatMap((file) => (edges.get(file) ?? []).filter((e) => members.has(e.target)).map(where));
    problems.push(`import cycle among ${component.sort().join(", ")}: ${lines.join("; ")}`);
  };
  for (const file of [...edges.keys()].sort()) if (!index.has(file)) visit(file);
  return problems;
}

test("every folder of modules/ imports only folders on a lower level", (t) => {
  t.true(imports(root, "modules").length > 200);
  t.deepEqual(levelProblems(root, LEVELS), []);
});

test("hosts/ never imports tools/ or tests/, and tools/ never imports tests/", (t) => {
  t.deepEqual(treeProblems(root), [], "compose the host and a tool in a launcher under tools/; what a tool needs from the tests belongs in tools/");
});

test("no import cycle of values anywhere, and none at all in hosts/ or printer/", (t) => {
  t.deepEqual(cycleProblems(root), []);
});

test("the README's layout gives every folder of modules/ the level of the table", (t) => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const layout = readme.slice(readme.indexOf("## Layout"));
  const block = layout.slice(layout.indexOf("```") + 3, layout.indexOf("```", layout.indexOf("```") + 3));
  const said: Record<string, number> = {};
  let level: number | undefined;
  for (const line of block.split("\n")) {
    const heading = /^ {2}level (\d)\b/.exec(line);
    if (heading) { level = Number(heading[1]); continue; }
    if (/^\S/.test(line)) level = undefined;
    const folder = /^ {2}([a-z0-9-]+)\/\s/.exec(line);
    if (folder && level !== undefined) said[folder[1]] = level;
  }
  t.deepEqual(said, LEVELS);
});

// The checks themselves, on small trees written here: each rule fails with
// the file and line.
function tree(t: { teardown: (f: () => void) => void }, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "levels-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test("the checks name the file and line of an upward, same-level, outside or unknown import", (t) => {
  const dir = tree(t, {
    "modules/print/a.ts": `import { x } from "../jobs/job.js";\nimport { y } from "../privet/api.js";\n`,
    "modules/privet/api.ts": `import { z } from "../cloud/api.js";\nimport { w } from "../../hosts/node/hal.js";\n`,
    "modules/cloud/api.ts": "",
    "modules/jobs/job.ts": "",
    "modules/extra/e.ts": "",
  });
  t.deepEqual(levelProblems(dir, { print: 3, jobs: 2, privet: 4, cloud: 4 }).sort(), [
    `modules/extra/ has no level: add it to the table in tests/levels.test.ts and to the README's layout`,
    `${path.join("modules", "print", "a.ts")}:2: import { y } from "../privet/api.js"; (print/ is level 3, privet/ is level 4: only lower levels)`,
    `${path.join("modules", "privet", "api.ts")}:1: import { z } from "../cloud/api.js"; (privet/ is level 4, cloud/ is level 4: only lower levels)`,
    `${path.join("modules", "privet", "api.ts")}:2: import { w } from "../../hosts/node/hal.js"; (modules/ imports only modules/)`,
  ].sort());
});

test("the checks see a host importing a tool, a tool importing a test, and a cycle", (t) => {
  const dir = tree(t, {
    "hosts/node/cli.ts": `import * as path from "node:path";\nimport { startCloudService } from "../../tools/cloud/index.js";\n`,
    "tools/bench/bench.ts": `import { helper } from "../../tests/helpers/x.js";\n`,
    "hosts/node/hal.ts": `import { nodeTls } from "./tls.js";\n`,
    "hosts/node/tls.ts": `import type { NodeTcpConnection } from "./hal.js";\n`,
    "modules/http/a.ts": `import type { B } from "./b.js";\n`,
    "modules/http/b.ts": `import type { A } from "./a.js";\n`,
  });
  t.deepEqual(treeProblems(dir), [
    `${path.join("hosts", "node", "cli.ts")}:2: import { startCloudService } from "../../tools/cloud/index.js"; (hosts/ never imports tools/)`,
    `${path.join("tools", "bench", "bench.ts")}:1: import { helper } from "../../tests/helpers/x.js"; (tools/ never imports tests/)`,
  ]);
  // The hosts' cycle counts though one side is type-only; the codec's does not.
  const cycles = cycleProblems(dir);
  t.is(cycles.length, 1);
  t.true(cycles[0].includes(`${path.join("hosts", "node", "hal.ts")}:1: import { nodeTls } from "./tls.js"`), cycles[0]);
  t.true(cycles[0].includes(`${path.join("hosts", "node", "tls.ts")}:1: import type { NodeTcpConnection } from "./hal.js"`), cycles[0]);
});
