import { StringDecoder } from "node:string_decoder";

// The XML an XMPP server has to read (RFC 6120 section 11): one long-lived root element,
// <stream:stream>, that is never closed until the session ends, and complete first-level
// elements (stanzas) inside it. This reader builds a small tree for each stanza and hands
// it over whole; it never holds more than one stanza, and every size it keeps is capped, so
// a peer cannot make it grow. What RFC 6120 forbids on a stream (comments, processing
// instructions, DTDs and so entity definitions, undefined entities) is refused outright:
// refusing the DOCTYPE is what makes entity-expansion bombs impossible.

export interface XmlElement {
  // As written, prefix included (e.g. "push:data"), and resolved against xmlns declarations.
  name: string;
  local: string;
  ns: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export interface XmlLimits {
  // Characters of one element or attribute name.
  maxNameLength: number;
  maxAttributes: number;
  // Characters of one tag, from "<" to ">".
  maxTagLength: number;
  // Nesting below the stream root.
  maxDepth: number;
  // Characters of one stanza, markup and text together.
  maxStanzaLength: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxNameLength: 128,
  maxAttributes: 24,
  maxTagLength: 4096,
  maxDepth: 12,
  maxStanzaLength: 64 * 1024,
};

// The RFC 6120 stream error conditions a reader can cause.
export type XmlFault = "not-well-formed" | "restricted-xml" | "policy-violation" | "invalid-namespace" | "bad-format";

export class XmlError extends Error {
  constructor(readonly condition: XmlFault, message: string) {
    super(message);
  }
}

export interface XmlEvents {
  streamOpen(root: XmlElement): void;
  stanza(element: XmlElement): void;
  streamClose(): void;
}

const STREAMS_NS = "http://etherx.jabber.org/streams";
const XML_NS = "http://www.w3.org/XML/1998/namespace";
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: "\"", apos: "'" };
// Conservative name characters: ASCII name characters and anything beyond ASCII.
const NAME = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_.\-\u0080-\uffff]*(?::[A-Za-z_\u0080-\uffff][A-Za-z0-9_.\-\u0080-\uffff]*)?$/;

interface Open { element: XmlElement; scope: Map<string, string> }

export class XmppXmlReader {
  private decoder = new StringDecoder("utf8");
  // Bumped by reset(): a drain that a stanza handler reset stops reading the old stream at once.
  private generation = 0;
  private pending = "";
  private stack: Open[] = [];
  private streamScope: Map<string, string> | undefined;
  private stanzaLength = 0;
  private closed = false;
  private failed = false;

  constructor(private readonly events: XmlEvents, private readonly limits: XmlLimits = DEFAULT_XML_LIMITS) {}

  // A new stream on the same connection (after STARTTLS and after SASL success): nothing
  // read before counts any more (RFC 6120 4.3.3).
  reset(): void {
    this.generation++;
    this.decoder = new StringDecoder("utf8");
    this.pending = "";
    this.stack = [];
    this.streamScope = undefined;
    this.stanzaLength = 0;
    this.closed = false;
    this.failed = false;
  }

  // Throws XmlError on the first fault; the reader is then dead until reset().
  write(chunk: Buffer): void {
    if (this.failed) throw new XmlError("not-well-formed", "the stream already failed");
    try {
      this.pending += this.decoder.write(chunk);
      this.drain();
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }

  // Works through pending with a cursor and cuts it once at the end, so a chunk of many small
  // tags costs one pass, not one copy of the rest per tag.
  private drain(): void {
    const text = this.pending;
    const generation = this.generation;
    let pos = 0;
    try {
      while (pos < text.length && !this.closed && this.generation === generation) {
        if (text[pos] === "<") {
          // Refused at the "<!", before its length or content matter: a DTD is never read at all.
          if (text[pos + 1] === "!") throw new XmlError("restricted-xml", "comments, CDATA sections and DTDs are not allowed on an XMPP stream");
          const end = tagEnd(text, pos);
          if (end < 0 ? text.length - pos > this.limits.maxTagLength : end + 1 - pos > this.limits.maxTagLength) {
            throw new XmlError("policy-violation", `a tag longer than ${this.limits.maxTagLength} characters`);
          }
          if (end < 0) break;
          const tag = text.slice(pos, end + 1);
          pos = end + 1;
          this.count(tag.length);
          this.tag(tag);
        } else {
          const lt = text.indexOf("<", pos);
          let stop = lt < 0 ? text.length : lt;
          if (lt < 0) {
            // Text may arrive split; an entity reference must not be cut, so keep a trailing "&…" for later.
            const amp = text.lastIndexOf("&");
            if (amp >= pos && text.indexOf(";", amp) < 0) {
              if (text.length - amp > 16) throw new XmlError("not-well-formed", "an unterminated entity reference");
              stop = amp;
            }
          }
          if (stop === pos) break;
          this.text(text.slice(pos, stop));
          pos = stop;
        }
      }
    } finally {
      if (this.generation === generation) this.pending = this.closed ? "" : text.slice(pos);
    }
  }

  private count(n: number): void {
    if (this.stack.length === 0) return;
    this.stanzaLength += n;
    if (this.stanzaLength > this.limits.maxStanzaLength) throw new XmlError("policy-violation", `a stanza longer than ${this.limits.maxStanzaLength} characters`);
  }

  private text(raw: string): void {
    if (this.stack.length === 0) {
      // Between stanzas only whitespace may appear (and is a keepalive, RFC 6120 4.6.1).
      if (!/^[ \t\r\n]*$/.test(raw)) throw new XmlError("not-well-formed", "text outside any stanza");
      return;
    }
    this.count(raw.length);
    const top = this.stack[this.stack.length - 1].element;
    top.text += decodeText(raw);
  }

  private tag(tag: string): void {
    if (tag.startsWith("<?")) {
      // Only the XML declaration, and only before the stream header.
      if (this.streamScope || !/^<\?xml(\s[^?]*)?\?>$/.test(tag)) throw new XmlError("restricted-xml", "processing instructions are not allowed");
      return;
    }
    if (tag.startsWith("<!")) throw new XmlError("restricted-xml", "comments, CDATA sections and DTDs are not allowed on an XMPP stream");
    if (tag.startsWith("</")) return this.endTag(tag);
    const selfClosing = tag.endsWith("/>");
    const body = tag.slice(1, selfClosing ? -2 : -1);
    const match = /^([^\s/>]+)([\s\S]*)$/.exec(body);
    if (!match) throw new XmlError("not-well-formed", "a tag without a name");
    const name = this.checkName(match[1]);
    const attrs = this.attributes(match[2]);
    const parentScope = this.stack.length > 0 ? this.stack[this.stack.length - 1].scope : this.streamScope ?? new Map([["xml", XML_NS]]);
    const scope = new Map(parentScope);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "xmlns") scope.set("", value);
      else if (key.startsWith("xmlns:")) scope.set(key.slice(6), value);
    }
    const colon = name.indexOf(":");
    const prefix = colon < 0 ? "" : name.slice(0, colon);
    const ns = scope.get(prefix);
    if (prefix !== "" && ns === undefined) throw new XmlError("invalid-namespace", `the prefix ${prefix} is not declared`);
    const element: XmlElement = { name, local: colon < 0 ? name : name.slice(colon + 1), ns: ns ?? "", attrs, children: [], text: "" };

    if (!this.streamScope) {
      if (element.local !== "stream" || element.ns !== STREAMS_NS) throw new XmlError("invalid-namespace", "the stream must start with <stream:stream xmlns:stream=\"http://etherx.jabber.org/streams\">");
      if (selfClosing) throw new XmlError("not-well-formed", "an empty stream");
      this.streamScope = scope;
      this.events.streamOpen(element);
      return;
    }
    if (this.stack.length >= this.limits.maxDepth) throw new XmlError("policy-violation", `elements nested deeper than ${this.limits.maxDepth}`);
    if (this.stack.length > 0) {
      const parent = this.stack[this.stack.length - 1].element;
      // A stanza is small: its element count is capped by its length, but be explicit.
      if (parent.children.length >= 256) throw new XmlError("policy-violation", "too many child elements");
      parent.children.push(element);
    } else {
      this.stanzaLength = tag.length;
    }
    if (selfClosing) {
      if (this.stack.length === 0) this.emit(element);
      return;
    }
    this.stack.push({ element, scope });
  }

  private endTag(tag: string): void {
    const name = tag.slice(2, -1).trim();
    if (this.stack.length === 0) {
      const colon = name.indexOf(":");
      const prefix = colon < 0 ? "" : name.slice(0, colon);
      if (this.streamScope && (colon < 0 ? name : name.slice(colon + 1)) === "stream" && this.streamScope.get(prefix) === STREAMS_NS) {
        this.closed = true;
        this.events.streamClose();
        return;
      }
      throw new XmlError("not-well-formed", `</${name.slice(0, 64)}> closes nothing`);
    }
    const open = this.stack.pop()!;
    if (open.element.name !== name) throw new XmlError("not-well-formed", `</${name.slice(0, 64)}> does not close <${open.element.name}>`);
    if (this.stack.length === 0) this.emit(open.element);
  }

  private emit(element: XmlElement): void {
    this.stanzaLength = 0;
    this.events.stanza(element);
  }

  private checkName(name: string): string {
    if (name.length > this.limits.maxNameLength) throw new XmlError("policy-violation", `a name longer than ${this.limits.maxNameLength} characters`);
    if (!NAME.test(name)) throw new XmlError("not-well-formed", "a malformed name");
    return name;
  }

  private attributes(text: string): Record<string, string> {
    const attrs: Record<string, string> = Object.create(null);
    let rest = text;
    let count = 0;
    for (;;) {
      const space = /^\s*/.exec(rest)![0].length;
      rest = rest.slice(space);
      if (rest === "") return attrs;
      if (space === 0) throw new XmlError("not-well-formed", "attributes must be separated by whitespace");
      const match = /^([^\s=]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/.exec(rest);
      if (!match) throw new XmlError("not-well-formed", "a malformed attribute");
      const name = this.checkName(match[1]);
      if (++count > this.limits.maxAttributes) throw new XmlError("policy-violation", `more than ${this.limits.maxAttributes} attributes`);
      if (Object.hasOwn(attrs, name)) throw new XmlError("not-well-formed", `the attribute ${name} appears twice`);
      attrs[name] = decodeText(match[2] ?? match[3]);
      rest = rest.slice(match[0].length);
    }
  }
}

// Index of the ">" that ends the tag starting at from, skipping ">" inside quoted values; -1 if not there yet.
function tagEnd(text: string, from: number): number {
  const quoted = text[from + 1] !== "!" && text[from + 1] !== "?";
  let quote = "";
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (quoted && (c === "\"" || c === "'")) {
      quote = c;
    } else if (c === ">") {
      return i;
    } else if (c === "<") {
      throw new XmlError("not-well-formed", "\"<\" inside a tag");
    }
  }
  return -1;
}

// Characters XML 1.0 never allows, even escaped.
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

function decodeText(raw: string): string {
  if (FORBIDDEN.test(raw)) throw new XmlError("not-well-formed", "a control character");
  if (!raw.includes("&")) return raw;
  return raw.replace(/&([^;&<]{0,12});?/g, (whole, name: string) => {
    if (!whole.endsWith(";")) throw new XmlError("not-well-formed", "an unterminated entity reference");
    if (Object.hasOwn(PREDEFINED, name)) return PREDEFINED[name];
    const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (numeric) {
      const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]);
      const legal = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!legal) throw new XmlError("not-well-formed", "a character reference to a character XML does not allow");
      return String.fromCodePoint(code);
    }
    throw new XmlError("restricted-xml", `the entity &${name.slice(0, 16)}; is not defined (only the five predefined ones are)`);
  });
}

// What the server writes: attribute values and text with the characters XML reserves escaped.
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${c === "<" ? "lt" : c === ">" ? "gt" : c === "&" ? "amp" : c === "\"" ? "quot" : "apos"};`);
}

export function child(element: XmlElement, local: string, ns?: string): XmlElement | undefined {
  return element.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}
