import Net from "net";
import Timer from "timer";
import WiFi, { type AccessPointOptions } from "wifi";
import type { JoinResult, Network, NetworkStatus, WifiNetwork } from "../../modules/hal/network.js";

// The ESP32's radio through the Moddable SDK's wifi module: scans, joins a
// station network, and runs the setup access point beside it (station and
// access point at once, so the page served over the access point can say
// whether the join worked).

const JOIN_TIMEOUT_MS = 20_000;
const AP_ADDRESS = "192.168.4.1";

// On the ESP32 the SDK passes a second value with "disconnect": -1 when the
// network rejected the password (a failed WPA handshake), else 0.
const PASSWORD_REJECTED = -1;

export class ModdableWifi implements Network {
  private monitor: WiFi | undefined;
  private ssid: string | undefined;
  private accessPoint: { ssid: string; address: string } | undefined;

  constructor(private readonly log: (message: string) => void) {}

  scan(): Promise<WifiNetwork[]> {
    return new Promise((resolve) => {
      const found: WifiNetwork[] = [];
      WiFi.scan({}, (item) => {
        if (!item) return resolve(found);
        // A scan on a busy band can list hundreds; the page shows twenty.
        if (found.length < 64) found.push({ ssid: item.ssid, rssi: item.rssi, secure: item.authentication !== "none" });
      });
    });
  }

  join(ssid: string, password: string): Promise<JoinResult> {
    this.leave();
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: JoinResult) => {
        if (settled) return;
        settled = true;
        Timer.clear(timer);
        if (!result.ok) this.leave();
        resolve(result);
      };
      const timer = Timer.set(() => settle({ ok: false, error: "the network did not answer in time" }), JOIN_TIMEOUT_MS);
      this.setMode();
      this.monitor = new WiFi({ ssid, password }, (message: string, reason?: number) => {
        if (message === WiFi.gotIP) {
          this.ssid = ssid;
          settle({ ok: true, address: String(Net.get("IP", "station") ?? "") });
        } else if (message === WiFi.disconnected) {
          if (this.ssid === ssid) this.log(`wifi: lost ${ssid}`);
          this.ssid = undefined;
          settle({ ok: false, error: reason === PASSWORD_REJECTED ? "the password is wrong" : "the network did not take the connection (out of range, or it refused)" });
        }
      });
    });
  }

  leave(): void {
    this.monitor?.close();
    this.monitor = undefined;
    this.ssid = undefined;
    WiFi.disconnect();
  }

  status(): NetworkStatus {
    // A station joined at build time (mcconfig ssid=...) has an address before we join anything.
    const address = Net.get("IP", "station");
    const joined = typeof address === "string" && address !== "" && address !== "0.0.0.0";
    const ssid = this.ssid ?? (joined ? String(Net.get("SSID") ?? "") || undefined : undefined);
    return { ssid, address: ssid === undefined ? undefined : String(address), accessPoint: this.accessPoint };
  }

  async startAccessPoint(ssid: string, password?: string): Promise<{ address: string }> {
    this.accessPoint = { ssid, address: AP_ADDRESS };
    this.setMode();
    // station: true (ESP32) keeps the station up beside the access point; the typings lack it.
    const options: AccessPointOptions & { station: boolean } = password ? { ssid, password, station: true } : { ssid, station: true };
    WiFi.accessPoint(options);
    return { address: String(Net.get("IP", "ap") ?? AP_ADDRESS) };
  }

  stopAccessPoint(): void {
    this.accessPoint = undefined;
    this.setMode();
  }

  private setMode(): void {
    // 3 is station and access point at once (the ESP32's APSTA).
    WiFi.mode = this.accessPoint ? 3 : WiFi.Mode.station;
  }
}
