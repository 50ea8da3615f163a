import test from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Printer } from "../modules/printer/printer.js";
import { DirectoryStorage, nodeHal } from "../hosts/node/hal.js";
import { SafeStorage } from "../modules/storage/safe-storage.js";
import { get, rawRequest } from "./helpers/client.js";

const quiet = () => {};

async function startPrinter(stateDir?: string, config: Record<string, unknown> = {}) {
  const hal = nodeHal({ stateDir, log: quiet });
  const printer = new Printer(hal, { port: 0, name: "Test Printer", description: "3rd floor", ...config });
  const port = await printer.start();
  return { printer, port };
}

test("/privet/info answers the full Privet 4.2 document with an empty token", async (t) => {
  const { printer, port } = await startPrinter();
  try {
    const response = await get(port, "/privet/info", { "X-Privet-Token": "\"\"" });
    t.is(response.status, 200);
    t.is(response.headers["content-type"], "application/json");
    const info = JSON.parse(response.body);
    for (const field of ["version", "name", "description", "url", "type", "id", "device_state", "connection_state", "manufacturer",
      "model", "serial_number", "firmware", "uptime", "x-privet-token", "api", "semantic_state"]) {
      t.true(field in info, `has ${field}`);
    }
    t.is(info.version, "1.0");
    t.is(info.name, "Test Printer");
    t.is(info.description, "3rd floor");
    t.deepEqual(info.type, ["printer"]);
    t.is(info.id, "", "unregistered: empty id");
    t.is(info.url, "");
    t.is(info.connection_state, "not-configured");
    t.is(info.device_state, "idle");
    t.regex(info.serial_number, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    t.true(Number.isInteger(info.uptime) && info.uptime >= 0);
    t.true(Array.isArray(info.api));
    t.false(info.api.includes("/privet/info"));
    t.deepEqual(info.semantic_state, { version: "1.0", printer: { state: "IDLE" } });
    t.is(printer.tokens.verify(info["x-privet-token"]), "valid", "the token handed out verifies");
  } finally {
    printer.stop();
  }
});

test("/privet/info accepts a truly empty header value and a stale token alike", async (t) => {
  const { printer, port } = await startPrinter();
  try {
    t.is((await get(port, "/privet/info", { "X-Privet-Token": "" })).status, 200);
    t.is((await get(port, "/privet/info", { "X-Privet-Token": "garbage" })).status, 200);
  } finally {
    printer.stop();
  }
});

test("without the X-Privet-Token header the answer is HTTP 400 'Missing X-Privet-Token header.'", async (t) => {
  const { printer, port } = await startPrinter();
  try {
    const response = await get(port, "/privet/info");
    t.is(response.status, 400);
    t.is(response.reason, "Missing X-Privet-Token header.");
    t.is(response.body.trim(), "Missing X-Privet-Token header.");
  } finally {
    printer.stop();
  }
});

test("unknown paths get 404 whatever the token; a wrong method gets 405", async (t) => {
  const { printer, port } = await startPrinter();
  try {
    t.is((await get(port, "/privet/nothing", { "X-Privet-Token": "x" })).status, 404);
    t.is((await get(port, "/nothing")).status, 404);
    t.is((await get(port, "/")).status, 200, "/ is the printer's own page");
    t.is((await get(port, "/privet/register", { "X-Privet-Token": "x" })).status, 404, "no registration in local-only mode yet");
    const post = await rawRequest(port, "POST /privet/info HTTP/1.1\r\nX-Privet-Token: \"\"\r\nContent-Length: 0\r\n\r\n");
    t.is(post.status, 405);
    t.is(post.headers["allow"], "GET");
  } finally {
    printer.stop();
  }
});

test("the serial number stays the same across restarts with the same state directory", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "privet-state-"));
  const first = await startPrinter(dir);
  const a = JSON.parse((await get(first.port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  first.printer.stop();
  const second = await startPrinter(dir);
  const b = JSON.parse((await get(second.port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  second.printer.stop();
  t.is(a.serial_number, b.serial_number);
  t.is(new SafeStorage(new DirectoryStorage(dir)).read("serial"), a.serial_number);
  const other = await startPrinter(mkdtempSync(path.join(tmpdir(), "privet-state-")));
  const c = JSON.parse((await get(other.port, "/privet/info", { "X-Privet-Token": "\"\"" })).body);
  other.printer.stop();
  t.not(c.serial_number, a.serial_number, "another device, another serial");
  t.not(a["x-privet-token"], b["x-privet-token"], "a new boot has a new secret");
});

test("the device keeps serving after hostile requests", async (t) => {
  const { printer, port } = await startPrinter();
  try {
    const hostile = [
      "\u0000\u0001\u0002garbage\r\n\r\n",
      `GET /privet/info HTTP/1.1\r\n${"X: y\r\n".repeat(5000)}\r\n`,
      "GET /privet/info HTTP/9.9\r\n\r\n",
      "POST /privet/info HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
    ];
    for (const request of hostile) {
      const response = await rawRequest(port, Buffer.from(request, "latin1"));
      t.true(response.status >= 400 && response.status < 600, `${response.status} for ${JSON.stringify(request.slice(0, 30))}`);
    }
    t.is((await get(port, "/privet/info", { "X-Privet-Token": "\"\"" })).status, 200);
  } finally {
    printer.stop();
  }
});
