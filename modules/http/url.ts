// http:// and https:// URLs for the client, parsed by hand (XS has no URL)
// and strictly: anything the client could not send as written is refused
// rather than guessed at.

export interface HttpUrl {
  secure: boolean;
  // Lower-case name or dotted IPv4 address.
  host: string;
  port: number;
  // Origin form for the request line: path and query, never empty.
  target: string;
  // The Host header: host, plus the port when it is not the scheme's default.
  authority: string;
}

export const MAX_URL_LENGTH = 2048;
const MAX_HOST_LENGTH = 253;

// Returns the parts, or a sentence saying what is wrong.
export function parseHttpUrl(text: string): HttpUrl | string {
  if (text.length > MAX_URL_LENGTH) return `URL longer than ${MAX_URL_LENGTH} characters`;
  const scheme = /^(https?):\/\//i.exec(text);
  if (!scheme) return "URL must start with http:// or https://";
  const secure = scheme[1].toLowerCase() === "https";
  const rest = text.slice(scheme[0].length);
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) { end = i; break; }
  }
  const authority = rest.slice(0, end);
  let target = rest.slice(end);
  const hash = target.indexOf("#");
  if (hash >= 0) target = target.slice(0, hash);
  if (target.length === 0) target = "/";
  else if (target.charCodeAt(0) === 63) target = "/" + target;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    // Request-target bytes: visible ASCII only; the caller percent-encodes.
    if (c <= 32 || c >= 127) return "URL path or query has a space or a character that must be percent-encoded";
  }
  if (authority.indexOf("@") >= 0) return "URL must not carry user information";
  if (authority.charCodeAt(0) === 91) return "IPv6 addresses are not supported";
  const colon = authority.indexOf(":");
  const host = (colon < 0 ? authority : authority.slice(0, colon)).toLowerCase();
  let port = secure ? 443 : 80;
  if (colon >= 0) {
    const digits = authority.slice(colon + 1);
    if (!/^\d{1,5}$/.test(digits) || Number(digits) < 1 || Number(digits) > 65535) return "URL has a malformed port";
    port = Number(digits);
  }
  if (host.length === 0) return "URL has no host";
  if (host.length > MAX_HOST_LENGTH || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(host)) return "URL has a malformed host";
  if (/^[0-9.]+$/.test(host) && !isIpv4(host)) return "URL has a malformed IPv4 address";
  const defaultPort = port === (secure ? 443 : 80);
  return { secure, host, port, target, authority: defaultPort ? host : `${host}:${port}` };
}

export function isIpv4(text: string): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255 || (part.length > 1 && part[0] === "0")) return false;
  }
  return true;
}

// 127.0.0.0/8: the only addresses plain text may go to unless allowed.
export function isLoopback(address: string): boolean {
  return isIpv4(address) && address.startsWith("127.");
}
