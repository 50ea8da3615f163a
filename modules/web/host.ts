import type { DeviceSettingValues } from "../device/settings.js";
import type { DeviceActivity } from "../device/state.js";
import type { Job } from "../jobs/job.js";
import type { WifiSetup } from "../wifi/setup.js";

// What the pages may see of the printer and ask of it. The Printer provides
// it (modules/printer/web-host.ts); the pages never reach past it.

export interface WebStatus {
  deviceState: DeviceActivity;
  // The fault in words, while there is one.
  fault: string | undefined;
  // The job at the engine, if any.
  job: Job | undefined;
  // Privet's connection_state.
  connection: string;
  // The wall clock in words where it matters: being set (SNTP), or who set
  // it; absent where the host keeps the time itself.
  clock?: { set: boolean; text: string };
}

export interface WebIdentity {
  name: string;
  description: string;
  manufacturer: string;
  model: string;
  serialNumber: string;
  firmware: string;
  // Where the printer answers (host:port), and its mDNS name when announced.
  addresses: string[];
  // The HTTP port, and the mDNS host name (name.local) while announced.
  port?: number;
  localName?: string;
  uptimeSeconds: number;
}

export interface WebRegistrationState {
  // There is a Cloud Print service to register with.
  available: boolean;
  registered: boolean;
  owner: string;
  printerId: string;
  // The Privet registration's phase (idle, confirming, registering, claimable, ...).
  phase: string;
  // Registration needs the date (tokens, certificates): not before the clock is set.
  waitingForClock?: boolean;
}

// The part of the device's settings table (device/settings) the pages edit.
export type WebSettings = Pick<DeviceSettingValues, "name" | "description" | "localDiscovery" | "localPrinting">;

export interface WebHost {
  status(): WebStatus;
  // Jobs the printer still knows, newest first (the 3 slots and the 10-entry ring).
  jobs(): Job[];
  identity(): WebIdentity;
  registration(): WebRegistrationState;
  // A Privet /privet/register action for user (Privet 4.3).
  register(action: string, user: string): Promise<Record<string, unknown>>;
  settings(): WebSettings;
  saveSettings(settings: WebSettings): void;
  factoryReset(): void;
  readonly wifi: WifiSetup | undefined;
}
