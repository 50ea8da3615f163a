// Every key the device keeps in its journal, in one table, so two owners
// cannot take one key and none outgrows the board's store: the ESP32's NVS
// takes at most 15 characters per key, and the journal (storage/safe-storage)
// adds a two-character slot suffix ("serial.a"), so a key here has at most 13
// (tests/device.test.ts checks both).
export const JOURNAL_KEYS = {
  // device/identity: the serial number, made once (Privet 4.2.2).
  serial: "serial",
  // device/settings: what a person or the cloud can change.
  name: "name",
  description: "note",
  localDiscovery: "discovery",
  localPrinting: "printing",
  accessToken: "actoken",
  xmppTimeout: "xmpp",
  // cloud/credentials: the printer id, refresh token, XMPP JID and owner.
  cloudCredentials: "cloud",
  // cloud/cloud: the hash of the capabilities the service last took.
  cddHash: "capshash",
  // cloud/jobs: the cloud job being printed when the power went.
  cloudJob: "cloudjob",
  // wifi/setup: the network to join.
  wifi: "wifi",
} as const;

export type JournalKey = (typeof JOURNAL_KEYS)[keyof typeof JOURNAL_KEYS];

export const MAX_JOURNAL_KEY = 13;
