import test from "ava";
import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

// XS resolves an import only if the manifest names the module's folder; a
// missing line type-checks fine and then aborts on the board at boot. This
// checks it without the SDK.
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const manifest = JSON.parse(readFileSync(path.join(root, "manifest.json"), "utf8"));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === "ci-types" ? [] : sources(full);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [full] : [];
  });
}

test("the manifest names every folder of modules/ and hosts/moddable/", (t) => {
  const folders = new Set(Object.keys(manifest.modules).filter((k) => k.endsWith("/*")).map((k) => k.slice(0, -2)));
  const needed = new Set([...sources(path.join(root, "modules")), ...sources(path.join(root, "hosts", "moddable"))].map((f) => path.relative(root, path.dirname(f))));
  for (const folder of needed) t.true(folders.has(folder), `manifest.json lacks "${folder}/*"`);
  for (const [key, value] of Object.entries(manifest.modules)) if (key !== "*") t.is(value, `./${key}`);
});

// mcconfig's wildcard preload ("modules/http/*") matches only .js sources, so
// for TypeScript it preloads nothing and every module is loaded into the XS
// heap at run time (about 170 KB of slots on lin). Each module is named.
test("the manifest preloads every module of modules/ by name, and no wildcard that would match nothing", (t) => {
  const preload = new Set<string>(manifest.preload);
  for (const file of sources(path.join(root, "modules"))) {
    const module = path.relative(root, file).replace(/\.ts$/, "");
    t.true(preload.has(module), `manifest.json does not preload "${module}"`);
  }
  for (const entry of preload) t.false(entry.endsWith("*"), `"${entry}" preloads nothing for TypeScript sources`);
});

// A host function (hosts/moddable/dither: the thermal driver's one native
// function) is a .js file with XS's "@" binding, its types in a .d.ts and its
// C beside it; an import of it lands on those three, not on a .ts.
function nativeBinding(target: string): boolean {
  const base = target.replace(/\.ts$/, "");
  return path.relative(root, base).startsWith("hosts/moddable/") && [".js", ".d.ts", ".c"].every((ext) => statSync(base + ext, { throwIfNoEntry: false })?.isFile() ?? false);
}

test("every import in the Moddable build is relative, ends in .js and lands in a named folder, or is an SDK module", (t) => {
  const sdkModules = new Set(["socket", "timer", "time", "preference", "mc/config", "net", "embedded:io/serial", "embedded:io/socket/tcp", "embedded:io/socket/listener", "embedded:io/socket/udp", "ssl/session", "embedded:io/digital", "Resource", "instrumentation", "wifi"]);
  const files = [...sources(path.join(root, "modules")), ...sources(path.join(root, "hosts", "moddable")), path.join(root, "main.ts"), path.join(root, "main_bench.ts")];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const specifiers = [...text.matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gm), ...text.matchAll(/\bimport\("([^"]+)"\)/g)];
    for (const match of specifiers) {
      const specifier = match[1];
      const where = path.relative(root, file);
      if (sdkModules.has(specifier)) {
        t.true(where.startsWith("hosts/moddable") || where === "main.ts" || where === "main_bench.ts", `${where} imports the SDK module ${specifier}`);
        continue;
      }
      t.true(specifier.startsWith("."), `${where}: "${specifier}" is not relative`);
      t.true(specifier.endsWith(".js"), `${where}: "${specifier}" does not end in .js`);
      const target = path.resolve(path.dirname(file), specifier.replace(/\.js$/, ".ts"));
      t.true((statSync(target, { throwIfNoEntry: false })?.isFile() ?? false) || nativeBinding(target), `${where}: "${specifier}" does not exist`);
      if (where.startsWith("modules/")) t.true(path.relative(root, target).startsWith("modules/"), `${where} reaches outside modules/`);
    }
  }
});

// The MCU bench has its own manifest (no network): everything its entry
// reaches must be named there, or XS aborts at boot on the board.
test("manifest_bench.json names every module the bench entry reaches, and nothing of the network", (t) => {
  const bench = JSON.parse(readFileSync(path.join(root, "manifest_bench.json"), "utf8"));
  const keys = Object.keys(bench.modules);
  const covered = (module: string) => keys.some((k) => (k.endsWith("/*") ? module.startsWith(k.slice(0, -1)) && !module.slice(k.length - 1).includes("/") : k === module));
  const seen = new Set<string>();
  const queue = [path.join(root, "main_bench.ts")];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/^\s*import\s(?!type\b)[^;]*?from\s+"(\.[^"]+)"/gm)) {
      const target = path.resolve(path.dirname(file), match[1].replace(/\.js$/, ".ts"));
      const module = path.relative(root, target).replace(/\.ts$/, "");
      t.true(covered(module), `manifest_bench.json lacks ${module} (imported by ${path.relative(root, file)})`);
      if (module.startsWith("modules/")) t.true(bench.preload.includes(module), `manifest_bench.json does not preload ${module} by name`);
      if (nativeBinding(target)) continue;
      queue.push(target);
    }
  }
  t.true(seen.size > 5);
  for (const file of seen) t.false(/from "(embedded:io\/socket|socket|net|ssl)/.test(readFileSync(file, "utf8")), `${path.relative(root, file)} pulls in the network`);
  for (const [key, value] of Object.entries(bench.modules)) if (key !== "main") t.is(value, `./${key}`);
  for (const file of bench.data["*"]) t.true(statSync(path.join(root, file), { throwIfNoEntry: false })?.isFile() ?? false, `${file} is missing`);
});

test("each host function's binding names a function its C file defines", (t) => {
  const dir = path.join(root, "hosts", "moddable");
  const bindings = readdirSync(dir).filter((name) => name.endsWith(".js"));
  t.true(bindings.length > 0);
  for (const name of bindings) {
    const base = path.join(dir, name.slice(0, -3));
    t.true(nativeBinding(base + ".ts"), `${name} lacks its .d.ts or .c`);
    const c = readFileSync(base + ".c", "utf8");
    for (const match of readFileSync(base + ".js", "utf8").matchAll(/@\s*"([A-Za-z_][A-Za-z0-9_]*)"/g)) {
      t.regex(c, new RegExp(`\\bvoid\\s+${match[1]}\\s*\\(xsMachine \\*the\\)`), `${name}: ${match[1]} is not defined in ${path.basename(base)}.c`);
    }
  }
});
