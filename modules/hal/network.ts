// The board's Wi-Fi: find networks, join one, and, when it has none to join,
// be an access point of its own so a person can reach the setup page. The
// Moddable host drives the ESP32's radio; the Node host simulates a few
// networks so the setup flow can be tested in a browser.

export interface WifiNetwork {
  ssid: string;
  // Signal strength in dBm (-30 strong, -90 barely there).
  rssi: number;
  // Needs a password (WPA/WPA2); false for an open network.
  secure: boolean;
}

export type JoinResult = { ok: true; address: string } | { ok: false; error: string };

export interface NetworkStatus {
  // Joined to a network, with its name and our address on it.
  ssid?: string;
  address?: string;
  // Our own access point while it is up.
  accessPoint?: { ssid: string; address: string };
}

export interface Network {
  // A fresh scan; the strongest first is not required (callers sort).
  scan(): Promise<WifiNetwork[]>;
  // Resolves once joined (with the address) or once it is clear it will not
  // be (wrong password, no such network, timed out), with words for a person.
  join(ssid: string, password: string): Promise<JoinResult>;
  leave(): void;
  status(): NetworkStatus;
  startAccessPoint(ssid: string, password?: string): Promise<{ address: string }>;
  stopAccessPoint(): void;
}
