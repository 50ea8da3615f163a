"""Browse and resolve a Privet printer with python-zeroconf on one interface.

Prints one JSON object: what was found for each service type, and how long it
took. Used by tests/mdns-interop.test.ts; runs with Debian's python3-zeroconf.
"""
import json
import sys
import time

from zeroconf import ServiceBrowser, ServiceInfo, Zeroconf
from zeroconf_listener import Listener

interface = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
wanted_name = sys.argv[2] if len(sys.argv) > 2 else None
limit_s = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
types = ["_privet._tcp.local.", "_printer._sub._privet._tcp.local."]

start = time.monotonic()
zc = Zeroconf(interfaces=[interface])
found = {t: [] for t in types}


def _txt_entries(raw):
    out, i = [], 0
    while i < len(raw):
        n = raw[i]
        out.append(raw[i + 1 : i + 1 + n])
        i += 1 + n
    return out


browsers = [ServiceBrowser(zc, t, Listener(t, found)) for t in types]
result = {"types": {}, "elapsed_s": None}
deadline = start + limit_s
try:
    while time.monotonic() < deadline:
        if all(any(wanted_name is None or n.startswith(wanted_name + ".") for n in found[t]) for t in types):
            break
        time.sleep(0.02)
    for t in types:
        names = [n for n in found[t] if wanted_name is None or n.startswith(wanted_name + ".")]
        if not names:
            result["types"][t] = None
            continue
        # A subtype browse names the instance under its main type already.
        name = names[0]
        instance = name
        info = ServiceInfo(types[0], instance)
        ok = info.request(zc, max(100, int((deadline - time.monotonic()) * 1000)))
        result["types"][t] = {
            "name": name,
            "resolved": ok,
            "server": info.server,
            "port": info.port,
            "addresses": info.parsed_addresses(),
            "txt": {k.decode(): (v.decode() if v is not None else None) for k, v in (info.properties or {}).items()},
            "txt_order": [entry.split(b"=", 1)[0].decode() for entry in _txt_entries(info.text)] if info.text else [],
        } if ok else {"name": name, "resolved": False}
    result["elapsed_s"] = time.monotonic() - start
finally:
    zc.close()


print(json.dumps(result))
