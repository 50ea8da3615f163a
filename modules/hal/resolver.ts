// Name resolution for outbound connections (the cloud service, XMPP).

export interface Resolver {
  // IPv4 addresses of name, in the order to try them; a literal address
  // resolves to itself. Rejects with an Error when the name has none.
  resolve(name: string, timeoutMs: number): Promise<string[]>;
}
