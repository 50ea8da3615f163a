#!/usr/bin/env node
// npm start: the printer simulator (hosts/node) with the project's Cloud Print
// service emulator (tools/cloud) beside it, so registration works on a machine
// with nothing else running. Composed here because the host must not depend on
// a development tool; --cloud URL or --no-cloud leave the emulator out.
import { runSimulator } from "../../hosts/node/cli.js";
import { startCloudService } from "../cloud/index.js";

await runSimulator(({ port, stateDir }) => startCloudService({ host: "127.0.0.1", port, stateDir, xmpp: { port: 0 } }));
