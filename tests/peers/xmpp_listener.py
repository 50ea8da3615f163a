#!/usr/bin/env python3
"""A Cloud Print XMPP listener in Python 3 with the standard library only, written the way
cloudprint 0.14 (reference 3.1 [A]) listened: direct TLS through Python's ssl module (here
with the certificate checked against a CA file), or STARTTLS, or plain text; SASL
X-OAUTH2 with no auth:* attributes, bind to resource cloud_print, the session iq with
id 2, the google:push subscription; then one line per push, base64-decoded.

    python3 xmpp_listener.py --port N --mode tls --cafile cert.pem --jid J --token T --pushes 3

prints "bound <full jid>" and then each payload, and exits after --pushes of them.
"""

import argparse
import base64
import re
import socket
import ssl
import sys

STREAM = ('<stream:stream to="gmail.com" xml:lang="en" version="1.0" '
          'xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">')


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = ""

    def send(self, text):
        self.sock.sendall(text.encode("utf-8"))

    def expect(self, pattern):
        """Reads until pattern matches the unread text; returns the match and consumes up to its end."""
        regex = re.compile(pattern, re.S)
        while True:
            m = regex.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit("connection closed while waiting for %s; unread: %r" % (pattern, self.buf[:300]))
            self.buf += data.decode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["plain", "starttls", "tls"], required=True)
    ap.add_argument("--cafile")
    ap.add_argument("--jid", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pushes", type=int, default=1)
    args = ap.parse_args()

    context = ssl.create_default_context(cafile=args.cafile) if args.mode != "plain" else None
    raw = socket.create_connection((args.host, args.port), timeout=20)
    sock = context.wrap_socket(raw, server_hostname="localhost") if args.mode == "tls" else raw
    conn = Conn(sock)

    conn.send(STREAM)
    if args.mode == "starttls":
        conn.expect(r"<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\">")
        conn.expect(r"</stream:features>")
        conn.send('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>')
        conn.expect(r"<proceed [^>]*/>")
        conn.sock = context.wrap_socket(raw, server_hostname="localhost")
        conn.buf = ""
        conn.send(STREAM)
    conn.expect(r"<mechanism>X-OAUTH2</mechanism>")
    conn.expect(r"</stream:features>")
    secret = base64.b64encode(("\0%s\0%s" % (args.jid, args.token)).encode("utf-8")).decode("ascii")
    conn.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-OAUTH2">%s</auth>' % secret)
    m = conn.expect(r"<(success|failure)[^>]*>")
    if m.group(1) != "success":
        raise SystemExit("SASL refused: %r" % conn.buf[:200])
    conn.send(STREAM)
    conn.expect(r"</stream:features>")
    conn.send('<iq type="set" id="0"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>cloud_print</resource></bind></iq>')
    full = conn.expect(r"<jid>([^<]+)</jid>").group(1)
    conn.send('<iq type="set" id="2"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>')
    conn.expect(r"<iq[^>]*id=\"2\"[^>]*/>")
    bare = full.split("/")[0]
    conn.send('<iq type="set" id="3" to="%s"><subscribe xmlns="google:push">'
              '<item channel="cloudprint.google.com" from="cloudprint.google.com"/></subscribe></iq>' % bare)
    conn.expect(r"<iq[^>]*id=\"3\"[^>]*type=\"result\"[^>]*/>")
    print("bound %s" % full, flush=True)
    for _ in range(args.pushes):
        data = conn.expect(r"<message[^>]*>.*?<data>([^<]*)</data>.*?</message>").group(1)
        print(base64.b64decode(data).decode("utf-8"), flush=True)
    conn.send("</stream:stream>")
    conn.sock.close()


if __name__ == "__main__":
    try:
        main()
    except (OSError, ssl.SSLError) as error:
        sys.exit("xmpp_listener: %s" % error)
