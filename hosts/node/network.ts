import type { JoinResult, Network, NetworkStatus, WifiNetwork } from "../../modules/hal/network.js";

// A pretend radio for the simulator: a few networks around, one of them
// open, the others with a password. Joining takes a moment, as it does on the
// board; the printer itself keeps serving on its loopback address whatever
// the pretend network says.

export interface SimulatedNetwork extends WifiNetwork {
  // undefined for an open network.
  password?: string;
  // The address the printer gets there.
  address: string;
}

export const SIMULATED_NETWORKS: SimulatedNetwork[] = [
  { ssid: "Home Wi-Fi", rssi: -48, secure: true, password: "correct horse battery", address: "192.168.1.57" },
  { ssid: "Cafe <Guest>", rssi: -67, secure: false, address: "10.20.0.14" },
  { ssid: "Neighbour 5G", rssi: -81, secure: true, password: "not yours", address: "192.168.0.33" },
];

export interface SimulatedWifiOptions {
  networks?: SimulatedNetwork[];
  // How long a join takes before it succeeds or fails.
  joinDelayMs?: number;
}

export class SimulatedWifi implements Network {
  readonly networks: SimulatedNetwork[];
  private joined: SimulatedNetwork | undefined;
  private accessPoint: { ssid: string; address: string } | undefined;
  // What the test or the console can see: every call in order.
  readonly calls: string[] = [];

  constructor(private readonly options: SimulatedWifiOptions = {}) {
    this.networks = options.networks ?? SIMULATED_NETWORKS;
  }

  async scan(): Promise<WifiNetwork[]> {
    this.calls.push("scan");
    return this.networks.map(({ ssid, rssi, secure }) => ({ ssid, rssi, secure }));
  }

  join(ssid: string, password: string): Promise<JoinResult> {
    this.calls.push(`join ${ssid}`);
    this.joined = undefined;
    return new Promise((resolve) => {
      setTimeout(() => {
        const network = this.networks.find((n) => n.ssid === ssid);
        if (!network) return resolve({ ok: false, error: "no network of that name is in range" });
        if (network.password !== undefined && network.password !== password) {
          return resolve({ ok: false, error: "the password is wrong" });
        }
        this.joined = network;
        resolve({ ok: true, address: network.address });
      }, this.options.joinDelayMs ?? 300).unref();
    });
  }

  leave(): void {
    this.calls.push("leave");
    this.joined = undefined;
  }

  status(): NetworkStatus {
    return { ssid: this.joined?.ssid, address: this.joined?.address, accessPoint: this.accessPoint };
  }

  async startAccessPoint(ssid: string): Promise<{ address: string }> {
    this.calls.push(`ap ${ssid}`);
    this.accessPoint = { ssid, address: "192.168.4.1" };
    return { address: this.accessPoint.address };
  }

  stopAccessPoint(): void {
    this.calls.push("ap off");
    this.accessPoint = undefined;
  }
}
