import type { Hal } from "../hal/hal.js";
import { HttpServer } from "../http/server.js";
import { INFO_PATH, PrivetApi } from "../privet/api.js";
import { DeviceRecord } from "../privet/device.js";
import { loadSerialNumber } from "../privet/identity.js";
import { infoDocument } from "../privet/info.js";
import { TokenEngine } from "../privet/token.js";
import { defaultPrinterConfig, type PrinterConfig } from "./config.js";

// The whole device, built from a HAL: the same object runs on the board, in
// the Moddable simulator and in the Node simulator host.
export class Printer {
  readonly config: PrinterConfig;
  readonly device: DeviceRecord;
  readonly tokens: TokenEngine;
  readonly api: PrivetApi;
  readonly http: HttpServer;

  constructor(private readonly hal: Hal, config: Partial<PrinterConfig> = {}) {
    this.config = { ...defaultPrinterConfig, ...config };
    this.device = new DeviceRecord(this.config, loadSerialNumber(hal.storage, hal.random));
    this.tokens = new TokenEngine(hal.clock, hal.random);
    this.api = new PrivetApi(this.tokens);
    this.api.add({
      path: INFO_PATH,
      method: "GET",
      exposed: () => true,
      handle: (_request, response) => response.json(this.info()),
    });
    this.http = new HttpServer(hal.tcp, hal.clock, hal.log,
      { ...this.config.http, port: this.config.port, host: this.config.host },
      (request, response) => this.api.handle(request, response));
  }

  info(): Record<string, unknown> {
    return infoDocument(this.device, this.tokens.issue(), this.uptimeSeconds(), this.api.exposedApis());
  }

  uptimeSeconds(): number {
    return Math.floor(this.hal.clock.monotonic() / 1000);
  }

  async start(): Promise<number> {
    const port = await this.http.start();
    this.hal.log("info", `printer "${this.device.name}" serving Privet on ${this.config.host}:${port}`);
    return port;
  }

  stop(): void {
    this.http.stop();
  }
}
