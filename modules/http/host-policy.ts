// Why every request's Host is checked: DNS rebinding. A page from
// attacker.example can have its name re-pointed at the printer's address; the
// browser then counts the printer as the page's own origin, lets the page
// read /privet/info's token and POST a job, and sends `Host: attacker.example`.
// That header is the only sign of it the printer gets, so it answers only to
// names no outside site can point at it:
// - an address literal (IPv4, or IPv6 in brackets), whichever address:
//   rebinding needs a name, and the printer's addresses change (DHCP, the
//   setup access point, a second interface) faster than a list could follow;
// - localhost, which browsers resolve themselves;
// - its own mDNS names (host.local), which only the local link answers, and
//   names the owner configured (a router's DNS name for it, say). Not any
//   .local name: the printer knows its own, and a stranger's is no reason.
// A request without Host (HTTP/1.0) is no browser's, so it is not refused here.

// The patterns are literals where they are used, never module constants: on
// the boards this module is preloaded, and XS gives a preloaded RegExp's match
// state to its collector from c_malloc (README, "Preloaded regular expressions").

// The name part of a Host header: lower case, without the port or a final
// dot (printer.local. is printer.local); undefined when it is no host at all.
export function hostName(header: string): string | undefined {
  const text = header.trim().toLowerCase();
  let name: string;
  let rest: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return undefined;
    name = text.slice(0, close + 1);
    rest = text.slice(close + 1);
  } else {
    const colon = text.indexOf(":");
    name = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? "" : text.slice(colon);
  }
  if (rest !== "" && !(rest.startsWith(":") && /^\d{1,5}$/.test(rest.slice(1)))) return undefined;
  if (name.endsWith(".") && !name.startsWith("[")) name = name.slice(0, -1);
  return name === "" ? undefined : name;
}

export function isAddressLiteral(name: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  if (v4) return Number(v4[1]) < 256 && Number(v4[2]) < 256 && Number(v4[3]) < 256 && Number(v4[4]) < 256;
  // A zone (%25eth0) is allowed after the address, as RFC 6874 writes it.
  return /^\[[0-9a-f:.]+(%25[0-9a-z._~-]+)?\]$/.test(name);
}

export class HostPolicy {
  // names() is asked at each request, so a renamed mDNS host or a name the
  // owner adds counts from the next request on.
  constructor(private readonly names: () => readonly string[]) {}

  allows(header: string | undefined): boolean {
    if (header === undefined) return true;
    const name = hostName(header);
    if (name === undefined) return false;
    if (name === "localhost" || isAddressLiteral(name)) return true;
    for (const own of this.names()) if (hostName(own) === name) return true;
    return false;
  }
}
