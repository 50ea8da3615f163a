import { CloudApi, defaultTokenUrl } from "../cloud/api.js";
import type { ChannelFactory } from "../cloud/channel.js";
import { Cloud, type CloudConnectionState, type CloudHost } from "../cloud/cloud.js";
import { applyLocalSettings, localSettingsOf, type LocalSettings } from "../cloud/local-settings.js";
import { semanticState } from "../cloud/semantic-state.js";
import type { DeviceRecord } from "../device/record.js";
import type { DeviceSettings } from "../device/settings.js";
import type { DeviceState } from "../device/state.js";
import type { Hal } from "../hal/hal.js";
import type { Storage } from "../hal/storage.js";
import { HttpClient } from "../http/client.js";
import type { Turns } from "../http/turns.js";
import type { Admission } from "../print/admission.js";
import type { JobLifecycle } from "../print/lifecycle.js";
import type { Spooler } from "../print/spooler.js";
import { accessTokenRoute } from "../privet/accesstoken.js";
import type { PrivetApi } from "../privet/api.js";
import { cloudDeviceDescription } from "../privet/cdd.js";
import { registerRoute } from "../privet/register.js";
import { checkTicket } from "../privet/ticket.js";
import { XmppClient } from "../xmpp/client.js";
import type { PrinterClock } from "./clock.js";
import type { PrinterConfig } from "./config.js";

// The OAuth client a printer of this firmware is issued to when the
// configuration names none (the emulator takes any).
const DEFAULT_CLIENT_ID = "privet-printer-firmware";

// What the cloud is built from: the device's facts, the print path, the
// clock, and the Privet API its routes go on. Declared here, so this file
// does not import printer.ts.
export interface CloudParts {
  readonly config: PrinterConfig;
  readonly device: DeviceRecord;
  readonly state: DeviceState;
  readonly settings: DeviceSettings;
  readonly storage: Storage;
  readonly lifecycle: JobLifecycle;
  readonly spooler: Spooler;
  readonly admission: Admission;
  readonly api: PrivetApi;
  readonly clock: PrinterClock;
  adminUrl(): string;
}

// The Cloud Print connection: its HTTP client and service API, its XMPP
// channel, the CloudHost view of the device, and the Privet routes it answers
// (/privet/register, /privet/accesstoken).
export function connectCloud(hal: Hal, parts: CloudParts, turns: Turns): Cloud {
  const config = parts.config;
  const options = config.cloud ?? {};
  const http = new HttpClient(hal, { ...options.http, allowPlainText: options.allowPlainText ?? options.http?.allowPlainText ?? false });
  const url = config.url.replace(/\/+$/, "");
  const api = new CloudApi(http, {
    url,
    tokenUrl: options.tokenUrl ?? defaultTokenUrl(url),
    clientId: options.clientId ?? DEFAULT_CLIENT_ID,
    clientSecret: options.clientSecret ?? "",
    proxy: options.proxy ?? `privet-${parts.device.serialNumber}`,
  }, hal.random, turns, config.budget?.cloudCall);
  const cloud = new Cloud({
    api, clock: hal.clock, random: hal.random, storage: parts.storage, log: hal.log, panel: hal.panel, host: new PrinterCloudHost(hal, parts),
    clockSet: () => parts.clock.isSet(),
    channel: xmppChannel(hal, config, parts.device),
    // Cloud jobs take the same path as local ones, checked as createjob checks a ticket.
    print: {
      lifecycle: parts.lifecycle, spooler: parts.spooler, admission: parts.admission, accept: "image/pwg-raster",
      checkTicket: (text) => checkTicket(text, hal.engine.capabilities),
    },
  }, options);
  parts.device.id = cloud.printerId;
  parts.api.add(registerRoute({ exposed: () => !cloud.registered, register: (action, user) => cloud.register(action, user) }));
  parts.api.add(accessTokenRoute({
    exposed: () => cloud.registered && parts.settings.get("accessToken"),
    accessToken: (user) => cloud.accessToken(user),
  }));
  return cloud;
}

// The cloud's notification channel is the XMPP client: the two modules
// stay apart and meet here.
function xmppChannel(hal: Hal, config: PrinterConfig, device: DeviceRecord): ChannelFactory | undefined {
  const xmpp = config.cloud?.xmpp;
  if (!xmpp) return undefined;
  return (params, listener) => new XmppClient(
    { tcp: hal.tcp, resolver: hal.resolver, tls: hal.tls, clock: hal.clock, random: hal.random, log: hal.log },
    { resource: `privet-${device.serialNumber.slice(0, 8)}`, ...xmpp, ...params },
    {
      state: (state, error) => {
        if (error) hal.log("info", `xmpp: ${state}: ${error.message}`);
        listener.state(state);
      },
      push: (push) => listener.push(push.kind, push.printerId),
      error: (error) => hal.log("info", `xmpp: ${error.message}`),
      refreshAccessToken: () => listener.refreshAccessToken(),
    },
  );
}

// What the cloud module may see and change of the device: views of the
// record, the settings table and the device state. A class, so its methods
// live with the code rather than as closures on the heap.
class PrinterCloudHost implements CloudHost {
  constructor(private readonly hal: Hal, private readonly parts: CloudParts) {}

  describe(): Array<[string, string]> {
    const device = this.parts.device;
    const fields: Array<[string, string]> = [
      ["name", device.name], ["default_display_name", device.name], ["description", device.description],
      ["uuid", device.serialNumber], ["manufacturer", device.manufacturer], ["model", device.model],
      ["firmware", device.firmware], ["gcp_version", "2.0"], ["use_cdd", "true"],
      ["semantic_state", JSON.stringify(semanticState(this.parts.state))],
      ["capabilities", JSON.stringify(cloudDeviceDescription(this.hal.engine.capabilities))],
    ];
    fields.push(["setup_url", device.setupUrl ?? this.parts.adminUrl()]);
    if (device.supportUrl) fields.push(["support_url", device.supportUrl]);
    if (device.updateUrl) fields.push(["update_url", device.updateUrl]);
    return fields;
  }

  localSettings(): LocalSettings {
    return localSettingsOf(this.parts.settings);
  }

  applyLocalSettings(settings: LocalSettings): void {
    applyLocalSettings(this.parts.settings, settings);
  }

  idChanged(id: string): void {
    this.parts.device.id = id;
    this.parts.device.changed();
  }

  connectionChanged(state: CloudConnectionState): void {
    this.parts.device.connectionState = state;
    this.parts.device.changed();
  }

  semanticState(): unknown {
    return semanticState(this.parts.state);
  }

  reportFields(): Array<[string, string]> {
    const device = this.parts.device;
    return [["name", device.name], ["default_display_name", device.name], ["description", device.description]];
  }
}
