import { TYPE_NSEC, nameKey, sameName, type Name } from "./message.js";
import { metaRecord, ownRecord, type OwnRecord } from "./records.js";
import {
  LOCAL, MAX_SERVICES, fitLabel, nextInstanceName, type MdnsService, type ServiceSpec, type ServiceState, type TxtPairs,
} from "./services.js";

// The unique names the responder claims, the host's and each service
// instance's, where each is in claiming it (RFC 6762 8), and the records they
// answer with together.

export const NEVER = Number.POSITIVE_INFINITY;

// "waiting": its probes are done but the host name is not yet ours, and an
// SRV must not point at a name nobody holds.
type Phase = "idle" | "probing" | "waiting" | "announcing" | "ready" | "failed" | "removed";

// One unique name the responder claims: the host, or a service instance.
export class Claim {
  phase: Phase = "idle";
  step = 0;
  due = NEVER;
  renames = 0;
  records: OwnRecord[] = [];
  // After an update: what to re-announce, how many times more, and when.
  refresh: "txt" | "all" = "txt";
  refreshLeft = 0;
  refreshDue = NEVER;

  constructor(public label: string, public suffix: Name) {}

  name(): Name {
    return [this.label, ...this.suffix];
  }

  get announced(): boolean {
    return this.phase === "announcing" || this.phase === "ready";
  }

  get claiming(): boolean {
    return this.phase === "probing" || this.phase === "waiting";
  }

  get live(): boolean {
    return this.claiming || this.announced;
  }

  uniqueRecords(): OwnRecord[] {
    return this.records.filter((r) => r.unique);
  }

  // What a probe proposes and a tie-break compares: NSEC only describes the rest.
  probeRecords(): OwnRecord[] {
    return this.records.filter((r) => r.unique && r.record.type !== TYPE_NSEC);
  }
}

export class ServiceClaim extends Claim implements MdnsService {
  wanted: string;
  subtypes: string[];
  port: number;
  txt: ServiceSpec["txt"];

  constructor(spec: ServiceSpec, type: Name, private readonly owner: ServiceOwner) {
    super(fitLabel(spec.instance), type);
    this.wanted = this.label;
    this.subtypes = [...(spec.subtypes ?? [])];
    this.port = spec.port;
    this.txt = spec.txt;
  }

  get instanceName(): string {
    return this.label;
  }

  get typeName(): Name {
    return this.suffix;
  }

  get type(): string {
    return this.typeName.slice(0, 2).join(".");
  }

  get state(): ServiceState {
    return this.phase === "waiting" ? "probing" : this.phase;
  }

  txtPairs(): TxtPairs {
    return typeof this.txt === "function" ? this.txt() : this.txt;
  }

  update(changes: Partial<ServiceSpec>): void {
    this.owner.update(this, changes);
  }

  remove(): void {
    this.owner.remove(this);
  }
}

export interface ServiceOwner {
  update(service: ServiceClaim, changes: Partial<ServiceSpec>): void;
  remove(service: ServiceClaim): void;
}

// The host, the services in the order they were added, and the records
// that answer for them.
export class ClaimSet {
  readonly host: Claim;
  readonly services: ServiceClaim[] = [];
  // One PTR from _services._dns-sd._udp per type that some announced service has.
  readonly meta = new Map<string, OwnRecord>();

  constructor(host: string) {
    this.host = new Claim(fitLabel(host), [LOCAL]);
  }

  // A service's records with the _services PTR for its type.
  serviceRecords(service: ServiceClaim): OwnRecord[] {
    const meta = this.meta.get(nameKey(service.typeName)) ?? ownRecord(metaRecord(service.typeName), false);
    return [...service.records, meta];
  }

  // Keeps one _services PTR object per announced type, so a pending answer
  // that holds it still recognises it as ours.
  refreshMeta(): void {
    const types = new Map<string, Name>();
    for (const s of this.services) if (s.announced) types.set(nameKey(s.typeName), s.typeName);
    for (const key of [...this.meta.keys()]) if (!types.has(key)) this.meta.delete(key);
    for (const [key, type] of types) if (!this.meta.has(key)) this.meta.set(key, ownRecord(metaRecord(type), false));
  }

  // Everything that answers questions now: announced names only.
  answerable(): OwnRecord[] {
    if (!this.host.announced) return [];
    const all = [...this.host.records];
    for (const service of this.services) if (service.announced) all.push(...service.records);
    for (const meta of this.meta.values()) all.push(meta);
    return all;
  }

  // The claim, announced or still being probed, that holds this unique name.
  claimFor(name: Name): Claim | undefined {
    if (this.host.live && sameName(name, this.host.name())) return this.host;
    return this.services.find((s) => s.live && sameName(name, s.name()));
  }

  // The instance label nobody else among our services of that type uses.
  freeLabel(service: ServiceClaim, label: string): string {
    let candidate = label;
    for (let i = 0; i <= MAX_SERVICES; i++) {
      const taken = this.services.some((s) => s !== service && nameKey(s.typeName) === nameKey(service.typeName) && s.label.toLowerCase() === candidate.toLowerCase());
      if (!taken) return candidate;
      candidate = nextInstanceName(candidate);
    }
    return candidate;
  }
}
