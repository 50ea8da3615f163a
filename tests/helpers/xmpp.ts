import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";

// A raw-socket XMPP client for tests: it writes the exact strings of reference 3.2 and
// waits for patterns in what comes back, so the test reads like the stanza sequence.

export class RawXmpp {
  private received = "";
  private consumed = 0;
  private waiters: Array<() => void> = [];
  closed = false;
  // Every byte the server sent on this connection, decrypted after STARTTLS: what one parser of the whole connection would see.
  readonly transcript: Buffer[] = [];

  constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  static connect(port: number): Promise<RawXmpp> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(new RawXmpp(socket)));
      socket.once("error", reject);
    });
  }

  static connectTls(port: number, ca: Buffer): Promise<RawXmpp> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: "127.0.0.1", ca, servername: "localhost" }, () => resolve(new RawXmpp(socket)));
      socket.once("error", reject);
    });
  }

  private listen(socket: net.Socket): void {
    socket.on("data", (chunk: Buffer) => { this.transcript.push(chunk); this.received += chunk.toString("utf8"); this.wake(); });
    socket.on("close", () => { this.closed = true; this.wake(); });
    socket.on("error", () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  // After <proceed/>: the handshake on the same TCP connection, checked against ca.
  async startTls(ca: Buffer): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    this.socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const secured = tls.connect({ socket: plain, ca, servername: "localhost" }, () => resolve(secured));
      secured.once("error", reject);
    });
    this.listen(this.socket);
  }

  send(xml: string): void {
    this.socket.write(xml);
  }

  // The first match of pattern in what arrived since the last expect; everything up to its end is then consumed.
  async expect(pattern: RegExp, timeoutMs = 5000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.received.slice(this.consumed);
      const match = pattern.exec(rest);
      if (match) {
        this.consumed += match.index + match[0].length;
        return match;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw new Error(`no ${pattern} in ${JSON.stringify(rest.slice(0, 600))}${this.closed ? " (closed)" : ""}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  // Whatever arrives within ms, without waiting for anything in particular.
  async drain(ms: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const rest = this.received.slice(this.consumed);
    this.consumed = this.received.length;
    return rest;
  }

  waitClosed(timeoutMs = 5000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.socket.once("close", () => { clearTimeout(timer); resolve(true); });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export const STREAM_OPEN = `<stream:stream to="gmail.com" xml:lang="en" version="1.0" xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">`;

export function saslBody(authcid: string, token: string): string {
  return Buffer.from(`\0${authcid}\0${token}`, "utf8").toString("base64");
}

export type Transport = "plain" | "starttls" | "tls";

// The whole sequence of reference 3.2 up to the subscription; returns the client and its full JID.
export async function xmppLogin(transport: Transport, ports: { port: number; starttlsPort?: number; directTlsPort?: number }, jid: string, token: string, ca?: Buffer): Promise<{ client: RawXmpp; fullJid: string }> {
  const client = transport === "tls" ? await RawXmpp.connectTls(ports.directTlsPort!, ca!) : await RawXmpp.connect(transport === "plain" ? ports.port : ports.starttlsPort!);
  try {
    client.send(STREAM_OPEN);
    if (transport === "starttls") {
      await client.expect(/<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required\/><\/starttls>/);
      client.send(`<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`);
      await client.expect(/<proceed xmlns="urn:ietf:params:xml:ns:xmpp-tls"\/>/);
      await client.startTls(ca!);
      client.send(STREAM_OPEN);
    }
    await client.expect(/<mechanism>X-OAUTH2<\/mechanism>/);
    client.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2" auth:service="chromiumsync" auth:allow-generated-jid="true" auth:client-uses-full-bind-result="true" xmlns:auth="http://www.google.com/talk/protocol/auth">${saslBody(jid, token)}</auth>`);
    await client.expect(/<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>/);
    client.send(STREAM_OPEN);
    await client.expect(/<bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"\/>/);
    client.send(`<iq type="set" id="0"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>cloud_print</resource></bind></iq>`);
    const bound = await client.expect(/<iq id="0" type="result"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><jid>([^<]+)<\/jid><\/bind><\/iq>/);
    const fullJid = bound[1];
    client.send(`<iq type="set" id="1"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>`);
    await client.expect(/<iq type="result" id="1"\/>/);
    const bare = jid.split("/")[0];
    client.send(`<iq type="set" id="3" to="${bare}"><subscribe xmlns="google:push"><item channel="cloudprint.google.com" from="cloudprint.google.com"/></subscribe></iq>`);
    await client.expect(new RegExp(`<iq to="${escapeRe(fullJid)}" from="${escapeRe(bare)}" id="3" type="result"/>`));
    return { client, fullJid };
  } catch (error) {
    client.destroy();
    throw error;
  }
}

export function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

// The payload of the next push, base64-decoded.
export async function nextPush(client: RawXmpp, timeoutMs = 5000): Promise<string> {
  const match = await client.expect(/<message from="cloudprint\.google\.com" to="[^"]+"><push xmlns="google:push" channel="cloudprint\.google\.com"><recipient to="[^"]+"><\/recipient><data>([A-Za-z0-9+/=]*)<\/data><\/push><\/message>/, timeoutMs);
  return Buffer.from(match[1], "base64").toString("utf8");
}

// A throwaway self-signed certificate for localhost and 127.0.0.1, made with openssl as the design says.
export function testCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), "xmpp-cert-"));
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}
