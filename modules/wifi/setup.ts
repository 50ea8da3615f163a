import { JOURNAL_KEYS } from "../device/keys.js";
import type { Clock, TimerId } from "../hal/clock.js";
import type { Log } from "../hal/log.js";
import type { JoinResult, Network, NetworkStatus, WifiNetwork } from "../hal/network.js";
import type { Storage } from "../hal/storage.js";

// First boot on the board: with no stored network (or one that stopped
// working) the printer opens its own access point and serves the setup page;
// a network chosen there is joined and, once it works, stored through the
// power-safe journal. Forgetting (the panel's long press) opens the access
// point again.

export const WIFI_KEY = JOURNAL_KEYS.wifi;
const MAX_SSID_BYTES = 32;
const MAX_PASSWORD_LENGTH = 63;
const MAX_LISTED = 20;

export interface WifiSetupOptions {
  accessPointSsid: string;
  // How long the access point stays up after a join, so the person still
  // connected to it can read the printer's new address.
  lingerMs: number;
}

export interface WifiView {
  status: NetworkStatus;
  stored: string | undefined;
  joining: string | undefined;
  error: string | undefined;
}

export class WifiSetup {
  private joining: string | undefined;
  private error: string | undefined;
  private lingerTimer: TimerId | undefined;
  private readonly accessPointListeners: Array<(accessPoint: { ssid: string; address: string } | undefined) => void> = [];
  private readonly joinedListeners: Array<() => void> = [];

  constructor(
    private readonly network: Network,
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly options: WifiSetupOptions,
  ) {}

  private stored(): { ssid: string; password: string } | undefined {
    const text = this.storage.read(WIFI_KEY);
    if (text === undefined) return undefined;
    try {
      const value = JSON.parse(text) as { ssid?: unknown; password?: unknown };
      if (typeof value.ssid === "string" && typeof value.password === "string") return { ssid: value.ssid, password: value.password };
    } catch {
      // A record that does not parse is no record: set up again.
    }
    return undefined;
  }

  // At boot: join the stored network, or open the access point.
  async start(): Promise<void> {
    const stored = this.stored();
    // A build that brought its own network (mcconfig ssid=...) is already on it.
    const joined = this.network.status().ssid;
    if (!stored && joined !== undefined) return this.log("info", `wifi: on ${joined}, set at build time`);
    if (stored) {
      const result = await this.network.join(stored.ssid, stored.password);
      if (result.ok) {
        this.log("info", `wifi: joined ${stored.ssid} as ${result.address}`);
        return this.joined();
      }
      this.error = `Could not join ${stored.ssid}: ${result.error}`;
      this.log("warn", `wifi: ${this.error}; opening the setup access point`);
    }
    await this.openAccessPoint();
  }

  private async openAccessPoint(): Promise<void> {
    const ap = await this.network.startAccessPoint(this.options.accessPointSsid);
    this.log("info", `wifi: access point "${this.options.accessPointSsid}" is up; set up at http://${ap.address}/wifi`);
    this.accessPointChanged();
  }

  private closeAccessPoint(): void {
    this.network.stopAccessPoint();
    this.accessPointChanged();
  }

  // What needs the internet (SNTP) can try again at once rather than at its next retry.
  onJoined(listener: () => void): void {
    this.joinedListeners.push(listener);
  }

  private joined(): void {
    for (const listener of this.joinedListeners) listener();
  }

  // What runs only beside the access point (its DNS, the captive portal) follows it up and down.
  onAccessPoint(listener: (accessPoint: { ssid: string; address: string } | undefined) => void): void {
    this.accessPointListeners.push(listener);
  }

  private accessPointChanged(): void {
    const accessPoint = this.network.status().accessPoint;
    for (const listener of this.accessPointListeners) listener(accessPoint);
  }

  async scan(): Promise<WifiNetwork[]> {
    const found = await this.network.scan();
    // One row per name, the strongest signal, strongest first.
    const best = new Map<string, WifiNetwork>();
    for (const n of found) {
      if (n.ssid === "" || n.ssid.length > MAX_SSID_BYTES) continue;
      const seen = best.get(n.ssid);
      if (!seen || seen.rssi < n.rssi) best.set(n.ssid, n);
    }
    return [...best.values()].sort((a, b) => b.rssi - a.rssi).slice(0, MAX_LISTED);
  }

  view(): WifiView {
    return { status: this.network.status(), stored: this.stored()?.ssid, joining: this.joining, error: this.error };
  }

  async join(ssid: string, password: string): Promise<JoinResult> {
    if (ssid === "" || ssid.length > MAX_SSID_BYTES) return this.failed(ssid, "pick a network (a name of 1 to 32 characters)");
    if (password.length > MAX_PASSWORD_LENGTH) return this.failed(ssid, `a Wi-Fi password has at most ${MAX_PASSWORD_LENGTH} characters`);
    if (this.joining !== undefined) return { ok: false, error: `already joining ${this.joining}` };
    this.joining = ssid;
    this.error = undefined;
    let result: JoinResult;
    try {
      result = await this.network.join(ssid, password);
    } finally {
      this.joining = undefined;
    }
    if (!result.ok) return this.failed(ssid, result.error);
    this.storage.write(WIFI_KEY, JSON.stringify({ ssid, password }));
    this.log("info", `wifi: joined ${ssid} as ${result.address}; stored`);
    this.joined();
    if (this.network.status().accessPoint) {
      if (this.lingerTimer !== undefined) this.clock.clearTimer(this.lingerTimer);
      this.lingerTimer = this.clock.setTimer(() => {
        this.lingerTimer = undefined;
        if (this.stored()) this.closeAccessPoint();
      }, this.options.lingerMs);
    }
    return result;
  }

  private failed(ssid: string, error: string): JoinResult {
    this.error = ssid === "" ? error : `Could not join ${ssid}: ${error}`;
    return { ok: false, error };
  }

  // The panel's long press: the stored network is gone and setup starts over.
  async forget(): Promise<void> {
    this.storage.remove(WIFI_KEY);
    this.error = undefined;
    if (this.lingerTimer !== undefined) this.clock.clearTimer(this.lingerTimer);
    this.lingerTimer = undefined;
    this.network.leave();
    this.log("info", "wifi: stored network forgotten");
    if (!this.network.status().accessPoint) await this.openAccessPoint();
  }

  stop(): void {
    if (this.lingerTimer !== undefined) this.clock.clearTimer(this.lingerTimer);
    this.lingerTimer = undefined;
  }
}
