import { MdnsResponder, type MdnsService, type ServiceSpec } from "../dns/responder.js";
import type { DeviceRecord } from "../device/record.js";
import type { Hal } from "../hal/hal.js";
import type { MdnsSocket } from "../hal/udp.js";
import { privetTxt } from "../privet/info.js";

// How long a goodbye gets to leave before the socket closes.
const GOODBYE_FLUSH_MS = 100;

// The printer on mDNS while local discovery is on: the responder, Privet's
// _privet._tcp, the services of the other front ends beside it (IPP
// Everywhere's _ipp._tcp), and a rename that every service named after the
// printer follows. Whether it runs is the local_discovery setting's; the
// printer starts and stops it.
export class Discovery {
  responder: MdnsResponder | undefined;
  private socket: MdnsSocket | undefined;
  // The Privet service, so a rename renames its instance too.
  private privet: MdnsService | undefined;
  private readonly services: Array<{ spec: ServiceSpec; live: MdnsService | undefined }> = [];
  private namedAs: string;

  constructor(private readonly hal: Hal, private readonly device: DeviceRecord, private readonly hostLabel: () => string) {
    this.namedAs = device.name;
    device.onChange(() => this.deviceChanged());
  }

  private deviceChanged(): void {
    const previous = this.namedAs;
    const name = this.device.name;
    this.namedAs = name;
    if (name !== previous) {
      this.privet?.update({ instance: name });
      // Services named after the printer (IPP's) follow the rename too.
      for (const entry of this.services) {
        if (entry.spec.instance !== previous) continue;
        entry.spec = { ...entry.spec, instance: name };
        entry.live?.update({ instance: name });
      }
    }
    this.responder?.txtChanged();
  }

  // Another front end's service on the same host, published while discovery
  // runs; the function returned withdraws it with a goodbye for its records only.
  publish(spec: ServiceSpec): () => void {
    const entry = { spec, live: this.responder?.add(spec) };
    this.services.push(entry);
    return () => {
      const index = this.services.indexOf(entry);
      if (index >= 0) this.services.splice(index, 1);
      entry.live?.remove();
    };
  }

  async start(port: number): Promise<void> {
    if (!this.hal.udp || this.responder) return;
    const responder = new MdnsResponder(this.hal.clock, this.hal.random, this.hal.log, this.hostLabel());
    this.privet = responder.add({ instance: this.device.name, type: "_privet._tcp", subtypes: ["_printer"], port, txt: () => privetTxt(this.device) });
    try {
      this.socket = await this.hal.udp.openMdns((bytes, from) => responder.receive(bytes, from));
    } catch (error) {
      // The API still works without discovery; say why it is missing.
      this.hal.log("warn", `mdns: cannot open the mDNS socket (${String(error)}); discovery is off`);
      return;
    }
    for (const entry of this.services) entry.live = responder.add(entry.spec);
    this.responder = responder;
    responder.start(this.socket);
  }

  // Resolves once the mDNS goodbye has had time to leave.
  stop(): Promise<void> {
    const responder = this.responder;
    const socket = this.socket;
    this.responder = undefined;
    this.privet = undefined;
    this.socket = undefined;
    if (!responder || !socket) return Promise.resolve();
    responder.stop();
    return new Promise((resolve) => {
      this.hal.clock.setTimer(() => {
        socket.close();
        resolve();
      }, GOODBYE_FLUSH_MS);
    });
  }
}
