import { JOURNAL_KEYS } from "../device/keys.js";
import type { Storage } from "../hal/storage.js";
import { asObject, text } from "./values.js";

// What makes the printer registered: the cloud's id for it, the robot
// account's refresh token, its XMPP JID and the owner. All of it is one
// value under one key of the power-safe journal, so a power cut at any byte
// leaves either the whole old record or the whole new one: never an id
// without a token, never a half-erased registration.

export interface Credentials {
  printerId: string;
  refreshToken: string;
  xmppJid: string;
  user: string;
}

// Short: the ESP32's NVS takes at most 15 characters, the journal's ".a" included.
const KEY = JOURNAL_KEYS.cloudCredentials;

export class CredentialStore {
  constructor(private readonly storage: Storage) {}

  load(): Credentials | undefined {
    const stored = this.storage.read(KEY);
    if (stored === undefined || stored === "") return undefined;
    let object;
    try {
      object = asObject(JSON.parse(stored));
    } catch {
      return undefined;
    }
    if (!object) return undefined;
    const printerId = text(object, "id"), refreshToken = text(object, "refresh");
    // A record without both is no registration at all.
    if (!printerId || !refreshToken) return undefined;
    return { printerId, refreshToken, xmppJid: text(object, "jid") ?? "", user: text(object, "user") ?? "" };
  }

  save(credentials: Credentials): void {
    this.storage.write(KEY, JSON.stringify({ id: credentials.printerId, refresh: credentials.refreshToken, jid: credentials.xmppJid, user: credentials.user }));
  }

  // An empty record rather than removing the key: the journal's remove
  // deletes its two slots one after the other, and a cut between them would
  // bring the old registration back.
  erase(): void {
    this.storage.write(KEY, "");
  }
}
