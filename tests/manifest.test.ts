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

test("every import in the Moddable build is relative, ends in .js and lands in a named folder, or is an SDK module", (t) => {
  const sdkModules = new Set(["socket", "timer", "time", "preference", "mc/config", "net", "embedded:io/serial", "embedded:io/socket/tcp", "embedded:io/socket/listener", "embedded:io/socket/udp", "ssl/session", "embedded:io/digital", "wifi"]);
  const files = [...sources(path.join(root, "modules")), ...sources(path.join(root, "hosts", "moddable")), path.join(root, "main.ts")];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const specifiers = [...text.matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gm), ...text.matchAll(/\bimport\("([^"]+)"\)/g)];
    for (const match of specifiers) {
      const specifier = match[1];
      const where = path.relative(root, file);
      if (sdkModules.has(specifier)) {
        t.true(where.startsWith("hosts/moddable") || where === "main.ts", `${where} imports the SDK module ${specifier}`);
        continue;
      }
      t.true(specifier.startsWith("."), `${where}: "${specifier}" is not relative`);
      t.true(specifier.endsWith(".js"), `${where}: "${specifier}" does not end in .js`);
      const target = path.resolve(path.dirname(file), specifier.replace(/\.js$/, ".ts"));
      t.true(statSync(target, { throwIfNoEntry: false })?.isFile() ?? false, `${where}: "${specifier}" does not exist`);
      if (where.startsWith("modules/")) t.true(path.relative(root, target).startsWith("modules/"), `${where} reaches outside modules/`);
    }
  }
});
