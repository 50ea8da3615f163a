import Net from "net";
import Timer from "timer";
import WiFi from "wifi";
import type { JoinResult, Network, NetworkStatus, WifiNetwork } from "../../modules/hal/network.js";

// The ESP32's radio through the Moddable SDK's wifi module: scans, joins a
// station network, and runs the setup access point beside it (station and
// access point at once, so the page served over the access point can say
// whether the join worked).

const JOIN_TIMEOUT_MS = 20_000;
const AP_ADDRESS = "192.168.4.1";

// ESP-IDF's wifi_err_reason_t values a person can act on.
const REASONS: Record<number, string> = {
  2: "the network refused the password",
  15: "the password is wrong",
  201: "no network of that name is in range",
  202: "the network refused the password",
  203: "the network refused the connection",
  204: "the password is wrong",
};

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
      this.monitor = new WiFi({ ssid, password }, (message, reason) => {
        if (message === WiFi.gotIP) {
          this.ssid = ssid;
          settle({ ok: true, address: String(Net.get("IP", "station") ?? "") });
        } else if (message === WiFi.disconnected) {
          if (this.ssid === ssid) this.log(`wifi: lost ${ssid}`);
          this.ssid = undefined;
          settle({ ok: false, error: (reason !== undefined && REASONS[reason]) || "the network refused the connection; check the password" });
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
    const address = this.ssid === undefined ? undefined : String(Net.get("IP", "station") ?? "");
    return { ssid: this.ssid ?? (WiFi.status === WiFi.gotIP ? String(Net.get("SSID") ?? "") || undefined : undefined), address, accessPoint: this.accessPoint };
  }

  async startAccessPoint(ssid: string, password?: string): Promise<{ address: string }> {
    this.accessPoint = { ssid, address: AP_ADDRESS };
    this.setMode();
    WiFi.accessPoint(password ? { ssid, password, station: true } : { ssid, station: true });
    return { address: String(Net.get("IP", "ap") ?? AP_ADDRESS) };
  }

  stopAccessPoint(): void {
    this.accessPoint = undefined;
    this.setMode();
  }

  private setMode(): void {
    WiFi.mode = this.accessPoint ? WiFi.Mode.station | WiFi.Mode.accessPoint : WiFi.Mode.station;
  }
}
