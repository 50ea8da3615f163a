// The notification channel as the cloud module needs it. The XMPP client
// (modules/xmpp/) is a sibling at the same level, so cloud/ does not import
// it: it declares what it uses here and the Printer hands it a factory that
// builds the real client. A test (or a board without XMPP) can hand it
// another one.

export type ChannelState = "connecting" | "online" | "offline";

export type ChannelPushKind = "jobs" | "update_settings" | "delete";

export interface ChannelListener {
  state(state: ChannelState): void;
  push(kind: ChannelPushKind, printerId: string): void;
  // The server refused the access token: a fresh one, or a rejection when
  // none can be had (the channel backs off and asks again later).
  refreshAccessToken(): Promise<string>;
}

export interface Channel {
  start(): void;
  stop(): void;
  setAccessToken(token: string): void;
  setPingInterval(seconds: number): void;
}

export interface ChannelParams {
  jid: string;
  accessToken: string;
  printerId: string;
  pingIntervalSeconds: number;
}

export type ChannelFactory = (params: ChannelParams, listener: ChannelListener) => Channel;
