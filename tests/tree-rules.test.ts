import test from "ava";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

// The tree's edges from ../shared/DESIGN.md: the product's hosts never
// depend on a development tool (npm start composes the two in
// tools/launcher), and the tools never depend on the tests.

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function sources(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sources(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(full);
  }
  return found;
}

// Every relative import that lands in a forbidden top-level folder, as file:line.
function crossings(root: string, from: string, forbidden: string): string[] {
  const found: string[] = [];
  for (const file of sources(path.join(root, from))) {
    fs.readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      const match = /(?:from|import)\s*\(?\s*"(\.[^"]+)"/.exec(line);
      if (!match) return;
      const target = path.relative(root, path.resolve(path.dirname(file), match[1]));
      if (target.split(path.sep)[0] === forbidden) found.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

test("hosts/ never imports tools/, and tools/ never imports tests/", (t) => {
  t.deepEqual(crossings(root, "hosts", "tools"), [], "compose the host and a tool in a launcher under tools/ instead");
  t.deepEqual(crossings(root, "tools", "tests"), [], "what a tool needs from the tests belongs in tools/");
});

test("the check sees an import across the line (it would have caught the embedded emulator)", (t) => {
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "tree-rules-"));
  t.teardown(() => fs.rmSync(tree, { recursive: true, force: true }));
  fs.mkdirSync(path.join(tree, "hosts", "node"), { recursive: true });
  fs.writeFileSync(path.join(tree, "hosts", "node", "cli.ts"), `import * as path from "node:path";\nimport { startCloudService } from "../../tools/cloud/index.js";\n`);
  t.deepEqual(crossings(tree, "hosts", "tools"), [`${path.join("hosts", "node", "cli.ts")}:2: import { startCloudService } from "../../tools/cloud/index.js";`]);
});
