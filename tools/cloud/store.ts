import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

// Everything the emulator knows, as one JSON document in the state folder, plus one file
// per submitted document. Every write goes to a temporary file that is fsynced and then
// renamed over the old one, so a crash leaves either the previous state or the next one.

export type Subject =
  | { kind: "user"; email: string }
  | { kind: "robot"; printerId: string; jid: string }
  // A connector's robot account (createrobot): acts for its owner on the printers it registers.
  | { kind: "account"; jid: string; owner: string };

export type ShareRole = "OWNER" | "MANAGER" | "USER";

export type LocalSettingsValues = Record<string, boolean | number | string>;

export interface PrinterRecord {
  id: string;
  name: string;
  defaultDisplayName: string;
  displayName: string;
  description: string;
  uuid: string;
  manufacturer: string;
  model: string;
  gcpVersion: string;
  setupUrl: string;
  supportUrl: string;
  updateUrl: string;
  firmware: string;
  proxy: string;
  status: string;
  capsHash: string;
  capabilities: unknown;
  tags: string[];
  semanticState: unknown;
  notificationChannel: string;
  localSettings: { current: LocalSettingsValues; pending?: LocalSettingsValues };
  ownerId?: string;
  // Users the printer is shared with (/share), besides its owner.
  shares?: Record<string, ShareRole>;
  // While unclaimed: the anonymous registration's token and when it runs out.
  registrationToken?: string;
  registrationExpiresAt?: number;
  xmppJid: string;
  codeExchanged: boolean;
  createTime: number;
  updateTime: number;
  accessTime: number;
  // Last time the printer's own robot credentials were used over HTTP.
  robotSeenAt?: number;
  // Last stanza from a session of its JID on the XMPP channel: how long it has been away.
  channelSeenAt?: number;
}

export interface JobRecord {
  id: string;
  printerId: string;
  ownerId: string;
  title: string;
  contentType: string;
  // File name under documents/, absent for a reported local job (no content).
  document?: string;
  // The document converted for the printer (reference 5.4), and the render settings it was made with.
  converted?: { document: string; contentType: string; key: string; size: number };
  size: number;
  ticket: unknown;
  tags: string[];
  semanticState: { version: string; state: Record<string, unknown>; pages_printed?: number; delivery_attempts: number };
  numberOfPages: number;
  message: string;
  errorCode: string;
  createTime: number;
  updateTime: number;
}

export interface AccessTokenRecord { subject: Subject; expiresAt: number; issuedAt: number; refreshToken?: string }
export interface RefreshTokenRecord { subject: Subject; clientId: string; issuedAt: number }
// printerId is "" for a robot account's code, which carries the account instead.
export interface AuthCodeRecord { printerId: string; clientId: string; expiresAt: number; account?: { jid: string; owner: string } }
export interface SessionRecord { email: string; csrf: string; createdAt: number }

export interface State {
  version: 1;
  users: Record<string, { email: string; createdAt: number }>;
  printers: Record<string, PrinterRecord>;
  // Ids of deleted printers: their robot may still hold a valid access token and must learn of the deletion.
  deletedPrinters: Record<string, number>;
  authCodes: Record<string, AuthCodeRecord>;
  accessTokens: Record<string, AccessTokenRecord>;
  refreshTokens: Record<string, RefreshTokenRecord>;
  sessions: Record<string, SessionRecord>;
  jobs: Record<string, JobRecord>;
  nextJobNumber: number;
}

function emptyState(): State {
  return {
    version: 1, users: {}, printers: {}, deletedPrinters: {}, authCodes: {}, accessTokens: {},
    refreshTokens: {}, sessions: {}, jobs: {}, nextJobNumber: 1,
  };
}

const STATE_FILE = "state.json";
const DOCUMENTS = "documents";
const TEMP_MARK = ".tmp-";

export class StateError extends Error {}

export class Store {
  readonly state: State;

  private constructor(readonly dir: string, state: State) {
    this.state = state;
  }

  static open(dir: string): Store {
    fs.mkdirSync(path.join(dir, DOCUMENTS), { recursive: true });
    // Temporary files are only ever complete after their rename; one left behind is a crash's debris.
    for (const where of [dir, path.join(dir, DOCUMENTS)]) {
      for (const name of fs.readdirSync(where)) if (name.includes(TEMP_MARK)) fs.rmSync(path.join(where, name), { force: true });
    }
    const file = path.join(dir, STATE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Store(dir, emptyState());
      throw error;
    }
    let parsed: State;
    try {
      parsed = JSON.parse(text) as State;
    } catch (error) {
      // Atomic writes make this impossible short of outside damage; refuse rather than start empty and lose it all.
      throw new StateError(`${file} is not valid JSON (${(error as Error).message}); move it away to start with an empty state`);
    }
    if (parsed?.version !== 1) throw new StateError(`${file} has an unknown format version (${String(parsed?.version)})`);
    return new Store(dir, { ...emptyState(), ...parsed });
  }

  save(): void {
    writeAtomic(path.join(this.dir, STATE_FILE), Buffer.from(JSON.stringify(this.state)));
  }

  saveDocument(bytes: Buffer): string {
    const name = randomBytes(12).toString("hex");
    writeAtomic(path.join(this.dir, DOCUMENTS, name), bytes);
    return name;
  }

  readDocument(name: string): Buffer {
    if (!/^[0-9a-f]{24}$/.test(name)) throw new StateError("bad document name");
    return fs.readFileSync(path.join(this.dir, DOCUMENTS, name));
  }

  // For tools that read a file by name (Ghostscript); the name is checked as in readDocument.
  documentPath(name: string): string {
    if (!/^[0-9a-f]{24}$/.test(name)) throw new StateError("bad document name");
    return path.join(this.dir, DOCUMENTS, name);
  }

  removeDocument(name: string): void {
    if (/^[0-9a-f]{24}$/.test(name)) fs.rmSync(path.join(this.dir, DOCUMENTS, name), { force: true });
  }
}

export function writeAtomic(file: string, bytes: Buffer): void {
  const temp = `${file}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`;
  const fd = fs.openSync(temp, "w", 0o600);
  try {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  // The rename itself is durable only once the directory entry is on disk.
  const dirFd = fs.openSync(path.dirname(file), "r");
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}
