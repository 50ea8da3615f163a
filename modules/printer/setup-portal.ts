import { CaptiveDns } from "../dns/captive.js";
import type { Hal } from "../hal/hal.js";
import type { HttpRequest } from "../http/server.js";
import { CaptivePortal } from "../web/captive.js";

// While the setup access point is up: every name is the printer (DNS) and
// every other site's page redirects to the setup page (HTTP).
export class SetupPortal {
  readonly captive: CaptivePortal;
  readonly captiveDns: CaptiveDns | undefined;
  // Kept from WifiSetup's notices: the portal asks at every request, and
  // asking WifiSetup would read the stored network from storage each time.
  private accessPoint: { address: string } | undefined;

  constructor(private readonly hal: Hal, private readonly config: { host: string; wifiDnsPort?: number }, withWifi: boolean,
    private readonly port: () => number, ownHost: (request: HttpRequest) => boolean) {
    this.captive = new CaptivePortal({ setupUrl: () => this.setupUrl(), ownHost });
    this.captiveDns = withWifi && hal.datagrams && config.wifiDnsPort !== undefined ? new CaptiveDns(hal.datagrams, hal.log) : undefined;
  }

  // Where a person on the setup access point reaches the printer: the
  // access point's address on the board (listening everywhere), the address
  // the printer listens on in the simulator (whose access point is pretend).
  private address(accessPoint: { address: string }): string {
    return this.config.host === "0.0.0.0" ? accessPoint.address : this.config.host;
  }

  setupUrl(): string | undefined {
    const accessPoint = this.accessPoint;
    if (!accessPoint) return undefined;
    const port = this.port();
    return `http://${this.address(accessPoint)}${port === 80 ? "" : `:${port}`}/wifi`;
  }

  accessPointChanged(accessPoint: { address: string } | undefined): void {
    this.accessPoint = accessPoint;
    const dns = this.captiveDns;
    if (!dns) return;
    if (!accessPoint) return dns.stop();
    const bind = this.config.host === "0.0.0.0" ? undefined : this.config.host;
    dns.start(this.config.wifiDnsPort!, this.address(accessPoint), bind).catch((error: unknown) => {
      this.hal.log("warn", `captive DNS: cannot listen on UDP ${this.config.wifiDnsPort} (${String(error)}); phones will not open the setup page by themselves`);
    });
  }

  stop(): void {
    this.captiveDns?.stop();
  }
}
