"""Browse several DNS-SD types on one interface with python-zeroconf, resolve
the instances of one name, then watch for goodbyes.

usage: zeroconf_services.py INTERFACE NAME LIMIT_S TYPE... [--until-removed TYPE]

Prints JSON lines, flushed at once so a test can act between them:
  {"event": "resolved", ...}   every type's instance resolved (or the time ran out),
                               with what _services._dns-sd._udp listed
  {"event": "removed", ...}    which types saw a goodbye for NAME, once the
                               --until-removed type did (or the time ran out)
Used by tests/mdns-interop.test.ts; runs with Debian's python3-zeroconf.
"""
import json
import sys
import time

from zeroconf import ServiceBrowser, ServiceInfo, Zeroconf, ZeroconfServiceTypes
from zeroconf_listener import Listener

args = sys.argv[1:]
until_removed = None
if "--until-removed" in args:
    i = args.index("--until-removed")
    until_removed = args[i + 1]
    del args[i : i + 2]
interface, wanted, limit_s, types = args[0], args[1], float(args[2]), args[3:]

start = time.monotonic()
deadline = start + limit_s
zc = Zeroconf(interfaces=[interface])
found = {t: [] for t in types}
removed = {t: [] for t in types}


def ours(names):
    return [n for n in names if n.startswith(wanted + ".")]


def main_type(type_):
    # "_print._sub._ipp._tcp.local." -> "_ipp._tcp.local.": a subtype browse
    # names the instance under its main type.
    return type_.split("._sub.", 1)[1] if "._sub." in type_ else type_


def emit(obj):
    print(json.dumps(obj), flush=True)


browsers = [ServiceBrowser(zc, t, Listener(t, found, removed)) for t in types]
try:
    while time.monotonic() < deadline and not all(ours(found[t]) for t in types):
        time.sleep(0.02)
    resolved = {}
    for t in types:
        names = ours(found[t])
        if not names:
            resolved[t] = None
            continue
        info = ServiceInfo(main_type(t), names[0])
        ok = info.request(zc, max(100, int((deadline - time.monotonic()) * 1000)))
        resolved[t] = {
            "name": names[0],
            "resolved": ok,
            "server": info.server,
            "port": info.port,
            "addresses": info.parsed_addresses(),
            "txt": {k.decode(): (v.decode() if v is not None else None) for k, v in (info.properties or {}).items()},
        } if ok else {"name": names[0], "resolved": False}
    resolved_s = time.monotonic() - start
    resolved_wall_ms = time.time() * 1000
    listed = ZeroconfServiceTypes.find(zc=zc, timeout=min(2.0, max(0.1, deadline - time.monotonic())))
    emit({"event": "resolved", "types": resolved, "elapsed_s": resolved_s, "resolved_wall_ms": resolved_wall_ms, "service_types": sorted(listed)})
    if until_removed is not None:
        while time.monotonic() < deadline and not ours(removed[until_removed]):
            time.sleep(0.02)
        # A moment more, so a goodbye that wrongly covered another type shows too.
        time.sleep(0.5)
        emit({"event": "removed", "types": {t: ours(removed[t]) for t in types}, "elapsed_s": time.monotonic() - start})
finally:
    zc.close()
