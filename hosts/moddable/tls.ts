/// <reference path="./ssl-session.d.ts" />
import Session from "ssl/session";
import Timer from "timer";
import { base64Decode } from "../../modules/crypto/base64.js";
import type { TcpConnection, TcpConnectionEvents } from "../../modules/hal/tcp.js";
import type { Tls, TlsOptions } from "../../modules/hal/tls.js";
import { ModdableTcpConnection, type RawSocket } from "./tcp.js";

// TLS 1.2 client on the SDK's own TLS engine, the ECMA-419 session
// (modules/crypt/ssl/session_419.js, "ssl/session" from tls_419.json). The
// session works on any object with the ECMA-419 socket shape (readable and
// writable counts, read into a buffer, write), so it can start on a socket
// that is already open: wrapping after XMPP's STARTTLS go-ahead works the
// same as wrapping at once for HTTPS. The SDK's example TLSSocket
// (embedded:io/socket/tcp/tls) drives the same session, but lets a refused
// certificate escape as an exception from the socket callback; this host
// drives it itself so a refusal is an error the caller sees, and so the
// connection keeps the listener's pause/resume backpressure.
//
// Verification is the SDK's (ssl/cert): the chain must lead to a registered
// trust anchor, every certificate must be valid at Date.now() (so the clock
// must be set), and the leaf must carry serverName in subjectAltName. One
// limit of the SDK's verifier: it checks the name only on certificates below
// the top of the chain, so a server must send its chain (leaf and issuer); a
// lone self-signed certificate is refused even when it is the trust anchor.

// The 5-byte record header, an explicit nonce or IV, the MAC or tag and the
// padding of the biggest suite, rounded up: what a record adds to its data.
const RECORD_OVERHEAD = 96;
// Records are kept small so each fits the SDK socket's send buffer (1,536
// bytes on lin) in one write.
const MAX_RECORD_DATA = 1024;
// Asked of the server (RFC 6066 max_fragment_length): records of at most
// 4 KB, so a download's records need 4 KB buffers, not up to 16 KB each
// (the SDK's session reads a whole record into one buffer, then decrypts it
// into another). A server that does not know the extension ignores it.
const MAX_FRAGMENT_LENGTH = 4096;

// PEM ("-----BEGIN CERTIFICATE-----", base64, "-----END ...") to DER, which
// is what the SDK's certificate manager registers.
export function pemToDer(pem: string): ArrayBuffer | undefined {
  const begin = pem.indexOf("-----BEGIN CERTIFICATE-----");
  const end = pem.indexOf("-----END CERTIFICATE-----");
  if (begin < 0 || end < begin) return undefined;
  const body = pem.slice(begin + 27, end).replace(/\s+/g, "");
  const der = base64Decode(body);
  return der ? der.buffer as ArrayBuffer : undefined;
}

// The socket as the session sees it: counts the session reads and adjusts,
// kept here so the session's own bookkeeping cannot drift from the socket's.
class SessionSocket {
  available = 0;
  free = 0;
  constructor(private readonly raw: RawSocket) {}
  get readable(): number { return this.available; }
  set readable(_ignored: number) {}
  get writable(): number { return this.free; }
  set writable(_ignored: number) {}
  read(into: Uint8Array): number {
    this.raw.read(into);
    this.available -= into.byteLength;
    return into.byteLength;
  }
  write(packet: ArrayBuffer | Uint8Array): number {
    const bytes = packet instanceof Uint8Array ? packet : new Uint8Array(packet);
    this.raw.write(bytes);
    this.free -= bytes.byteLength;
    return this.free;
  }
}

class ModdableTlsConnection implements TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly session: Session;
  private socket!: SessionSocket;
  private raw!: RawSocket;
  private events: TcpConnectionEvents | undefined;
  private readonly queue: Uint8Array[] = [];
  private ready = false;
  private paused = false;
  private ending = false;
  private closed = false;
  private handshakeDone: ((error?: Error) => void) | undefined;

  constructor(plain: TcpConnection, session: Session, done: (error?: Error) => void) {
    this.remoteAddress = plain.remoteAddress;
    this.remotePort = plain.remotePort;
    this.session = session;
    this.handshakeDone = done;
  }

  attach(raw: RawSocket): void {
    this.raw = raw;
    this.socket = new SessionSocket(raw);
  }

  // Socket events, from the TCP connection that handed its socket over.
  readable(count: number): void {
    if (this.closed) return;
    this.socket.available = count;
    if (!this.ready) this.handshake();
    if (this.ready) this.readAll();
  }

  writable(count: number): void {
    if (this.closed) return;
    this.socket.free = count;
    if (!this.ready) this.handshake();
    else this.flush();
  }

  error(): void {
    if (this.closed) return;
    if (!this.ready) this.abort(new Error("TLS: the connection closed during the handshake"));
    else this.finish(true);
  }

  private handshake(): void {
    try {
      // Act on every step the session can take now: send what it has to
      // send, then read records while there are bytes for them.
      for (;;) {
        const waiting = this.session.handshakeProcess === -1;
        if (waiting && this.socket.available === 0) return;
        if (this.session.handshake(this.socket)) {
          const alert = this.session.alert;
          if (alert && alert.description !== 0) throw new Error(`alert ${alert.level}/${alert.description}`);
          this.ready = true;
          const done = this.handshakeDone;
          this.handshakeDone = undefined;
          done?.();
          return;
        }
        if (waiting && this.session.handshakeProcess === -1 && this.socket.available === 0) return;
      }
    } catch (error) {
      // The SDK says "certificate: auth err" for a chain it does not trust or
      // a name that does not match, and traces which check failed.
      this.abort(new Error(`TLS handshake: ${(error as Error)?.message ?? String(error)}`));
    }
  }

  // Ends a handshake that has not finished (refused, closed, timed out).
  abort(error: Error): void {
    if (!this.handshakeDone) return;
    const done = this.handshakeDone;
    this.handshakeDone = undefined;
    this.closed = true;
    this.raw.close();
    done?.(error);
  }

  private readAll(): void {
    try {
      // One record at a time, and none while paused: the rest waits in the socket.
      while (this.events && !this.paused && !this.closed && this.socket.available > 0) {
        const data = this.session.read(this.socket);
        if (data === null) return this.finish(false);  // close_notify
        if (data === undefined) return;  // a record is still incomplete
        if (data.byteLength > 0) this.events?.data(data);
      }
    } catch {
      // A fatal alert from the peer or a record that does not decrypt.
      this.finish(true);
    }
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed && this.socket.free > RECORD_OVERHEAD) {
      const head = this.queue[0];
      const n = Math.min(head.length, MAX_RECORD_DATA, this.socket.free - RECORD_OVERHEAD);
      this.session.write(this.socket, head.subarray(0, n));
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.queue.length > 0 || this.closed) return;
    if (this.ending) this.destroy();
    else this.events?.drain();
  }

  setEvents(events: TcpConnectionEvents): void {
    this.events = events;
    // Application data that came with the server's last handshake records.
    if (this.socket.available > 0) Timer.set(() => this.readAll(), 0);
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.queue.push(bytes);
    this.flush();
    return this.queue.length === 0;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.readAll();
  }

  end(): void {
    this.ending = true;
    if (this.queue.length === 0) this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    // Tell the peer this is the end, not a truncation, when there is room.
    try {
      if (this.ready && this.socket.free > RECORD_OVERHEAD) this.session.close(this.socket);
    } catch {}
    this.raw.close();
    this.finish(false);
  }

  private finish(hadError: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.raw.close();
    this.events?.close(hadError);
  }
}

// Frozen: preloaded, it then needs no RAM.
export const moddableTls: Tls = Object.freeze({
  wrap(connection: TcpConnection, options: TlsOptions): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      if (!(connection instanceof ModdableTcpConnection)) {
        reject(new Error("TLS: only a connection from this host's TCP can be wrapped"));
        return;
      }
      const anchors: ArrayBuffer[] = [];
      for (const pem of [...(options.trustAnchors ?? []), ...(options.trustSelfSigned ? [options.trustSelfSigned] : [])]) {
        const der = pemToDer(pem);
        if (!der) return reject(new Error("TLS: a trust anchor is not a PEM certificate"));
        anchors.push(der);
      }
      let session: Session;
      try {
        // Trust anchors other than the first are registered on the session's
        // certificate manager, which holds a list; the constructor takes one.
        session = new Session({ serverName: options.serverName, protocolVersion: 0x303, certificate: anchors[0], tls_max_fragment_length: MAX_FRAGMENT_LENGTH, cache: options.resume !== false });
        for (let i = 1; i < anchors.length; i++) session.certificateManager.register(anchors[i]);
        session.initiateHandshake();
      } catch (error) {
        // Registering checks the anchor's validity dates against Date.now().
        reject(new Error(`TLS: trust anchor refused (${(error as Error)?.message ?? String(error)}; is the clock set?)`));
        return;
      }
      let timer: Timer | undefined;
      const tls = new ModdableTlsConnection(connection, session, (error) => {
        Timer.clear(timer);
        timer = undefined;
        if (error) reject(error);
        else resolve(tls);
      });
      const raw = connection.takeOver(tls);
      if (!raw) {
        reject(new Error("TLS: the connection is closed or still has data to send"));
        return;
      }
      tls.attach(raw);
      timer = Timer.set(() => {
        timer = undefined;
        tls.abort(new Error(`TLS handshake: timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
    });
  },
});
