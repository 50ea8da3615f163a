import { utf8Decode, utf8Encode } from "./utf8.js";

// A streaming XML tokenizer for XMPP: bytes in, start tags, end tags and
// text out, with nothing held but one fixed token buffer, a small entity
// buffer and the stack of open element names. An XMPP stream is one
// document that never ends (the root <stream:stream> stays open for the
// whole connection), so a DOM is out of the question and so is anything
// that waits for the end of input. Names are reported as written
// ("stream:features"): namespace prefixes are plain characters here, and the
// consumer matches local names and xmlns attributes as XMPP clients do.
//
// What XMPP forbids or a device has no use for is refused rather than
// skipped: DOCTYPE (and with it every entity beyond the five predefined
// ones, which closes the door on entity expansion attacks), processing
// instructions other than the XML declaration, control characters. Every
// limit is checked as the byte arrives, so a hostile peer gets an XmlError
// after at most a limit's worth of bytes, never a buffer that grows.
//
// The tokens do not depend on how the input is cut into chunks: text is
// reported whole when the markup after it begins, and every decision is
// made on one byte with the state carried across calls.

export interface XmlLimits {
  // Bytes of one token: a start tag's name and all its attributes, or one
  // text run (entities and CDATA sections decoded into it).
  maxTokenBytes: number;
  // Bytes of one element or attribute name.
  maxNameBytes: number;
  maxAttributes: number;
  // Open elements, the root included.
  maxDepth: number;
  // Leading whitespace of text runs is dropped, and whitespace-only runs are
  // not reported at all: XMPP's whitespace keepalives then cost nothing,
  // however many arrive between stanzas.
  skipWhitespaceText: boolean;
}

export const defaultXmlLimits: XmlLimits = {
  maxTokenBytes: 4096,
  maxNameBytes: 128,
  maxAttributes: 16,
  maxDepth: 16,
  skipWhitespaceText: false,
};

export interface XmlHandler {
  // Attributes in a prototype-less object: a hostile "__proto__" attribute
  // is just a key. depth is 1 for the root.
  startElement(name: string, attributes: Record<string, string>, selfClosing: boolean, depth: number): void;
  endElement(name: string, depth: number): void;
  text(text: string, depth: number): void;
}

export type XmlErrorCode =
  | "syntax" | "doctype" | "processing-instruction" | "entity" | "character"
  | "token-too-long" | "name-too-long" | "too-many-attributes" | "duplicate-attribute"
  | "too-deep" | "mismatched-tag" | "text-outside-root" | "failed";

export class XmlError extends Error {
  constructor(readonly code: XmlErrorCode, message: string, readonly offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = "XmlError";
  }
}

const enum S {
  Text, TagOpen, Bang, Comment, CData, Declaration,
  StartName, InTag, AttrName, AfterAttrName, BeforeValue, Value, AfterValue, SelfClose,
  EndName, AfterEndName, Entity,
}

const LT = 0x3c, GT = 0x3e, AMP = 0x26, SLASH = 0x2f, EQ = 0x3d, QUOT = 0x22, APOS = 0x27, SEMI = 0x3b;
const BANG = 0x21, QUESTION = 0x3f, DASH = 0x2d, RSQB = 0x5d;
// What may follow "<!": a comment or a CDATA section; DOCTYPE is named to refuse it.
const COMMENT_OPEN = "--";
const CDATA_OPEN = "[CDATA[";
const MAX_ENTITY_NAME = 10; // "#x0010FFFF" is the longest that can be valid

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d;
}

// ASCII name characters by the XML rules, and every byte of a multi-byte
// UTF-8 sequence (the non-ASCII name ranges are wide; precision there buys
// nothing for XMPP).
function isNameStart(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x5f || b === 0x3a || b >= 0x80;
}

function isNameChar(b: number): boolean {
  return isNameStart(b) || (b >= 0x30 && b <= 0x39) || b === DASH || b === 0x2e;
}

// XML 1.0's Char production, for character references.
function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

export class XmlTokenizer {
  readonly limits: XmlLimits;
  private readonly buffer: Uint8Array;
  private length = 0;
  // Start, end of each attribute's name, then of its value, in the buffer.
  private readonly spans: Int32Array;
  private attributeCount = 0;
  private nameEnd = 0;
  private nameStart = 0;
  private readonly stack: string[] = [];
  private state = S.Text;
  // Where an entity reference returns to (text or an attribute value).
  private entityReturn = S.Text;
  private readonly entity = new Uint8Array(MAX_ENTITY_NAME);
  private entityLength = 0;
  private quote = 0;
  // Progress through "<!--", "<![CDATA[" or the closing "-->", "]]>", "?>".
  private matched = 0;
  private bangIsComment = false;
  private skipped = 0;
  private seenElement = false;
  private textHasContent = false;
  private offset = 0;
  private failure: XmlError | undefined;
  // Bumped by reset(), so a handler that restarts the stream (XMPP after
  // STARTTLS or SASL) has the rest of the chunk read by the fresh state.
  private epoch = 0;

  constructor(private readonly handler: XmlHandler, limits: Partial<XmlLimits> = {}) {
    this.limits = { ...defaultXmlLimits, ...limits };
    const l = this.limits;
    if (!(l.maxTokenBytes >= 16 && l.maxNameBytes >= 1 && l.maxAttributes >= 0 && l.maxDepth >= 1)) {
      throw new RangeError("XmlTokenizer: limits too small");
    }
    this.buffer = new Uint8Array(l.maxTokenBytes);
    this.spans = new Int32Array(l.maxAttributes * 4);
  }

  get depth(): number {
    return this.stack.length;
  }

  // A new document: what an XMPP stream restart means for the parser.
  reset(): void {
    this.epoch++;
    this.length = 0;
    this.attributeCount = 0;
    this.stack.length = 0;
    this.state = S.Text;
    this.matched = 0;
    this.skipped = 0;
    this.entityLength = 0;
    this.seenElement = false;
    this.textHasContent = false;
    this.offset = 0;
    this.failure = undefined;
  }

  // Feeds bytes; calls the handler for each complete token. Throws an
  // XmlError on the first thing it refuses, and again on every later call
  // until reset(): a stream that broke once is not resynchronised.
  write(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    let epoch = this.epoch;
    for (let i = 0; i < chunk.length; i++) {
      try {
        this.step(chunk[i]);
      } catch (error) {
        if (error instanceof XmlError) this.failure = error;
        throw error;
      }
      // After a reset() from a handler the next byte starts the new document.
      if (this.epoch !== epoch) epoch = this.epoch;
      else this.offset++;
    }
  }

  private fail(code: XmlErrorCode, message: string): never {
    throw new XmlError(code, message, this.offset);
  }

  private push(b: number): void {
    if (this.length >= this.buffer.length) this.fail("token-too-long", `a token is longer than ${this.buffer.length} bytes`);
    this.buffer[this.length++] = b;
  }

  private checkChar(b: number): void {
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) this.fail("character", `control character 0x${b.toString(16)} is not allowed in XML`);
  }

  private step(b: number): void {
    switch (this.state) {
      case S.Text:
        // Text ends at a tag; a comment or CDATA section may still continue it.
        if (b === LT) { this.state = S.TagOpen; return; }
        this.checkChar(b);
        if (b === AMP) { this.entityReturn = S.Text; this.entityLength = 0; this.state = S.Entity; return; }
        this.textByte(b);
        return;
      case S.TagOpen:
        if (b === SLASH) { this.flushText(); this.state = S.EndName; return; }
        if (b === BANG) { this.matched = 0; this.state = S.Bang; return; }
        if (b === QUESTION) {
          if (this.seenElement || this.depth > 0) this.fail("processing-instruction", "processing instructions are not allowed");
          this.flushText(); this.matched = 0; this.skipped = 0; this.state = S.Declaration; return;
        }
        if (!isNameStart(b)) this.fail("syntax", "a tag must start with a name");
        if (this.depth >= this.limits.maxDepth) this.fail("too-deep", `elements nest deeper than ${this.limits.maxDepth}`);
        this.flushText();
        this.attributeCount = 0;
        this.push(b);
        this.state = S.StartName;
        return;
      case S.Bang: return this.bang(b);
      case S.Comment:
        // Skipped without storage, but bounded like any token; "--" must end it.
        if (++this.skipped > this.limits.maxTokenBytes) this.fail("token-too-long", `a comment is longer than ${this.limits.maxTokenBytes} bytes`);
        this.checkChar(b);
        if (this.matched === 2) {
          if (b !== GT) this.fail("syntax", "\"--\" inside a comment");
          this.state = S.Text;
          return;
        }
        this.matched = b === DASH ? this.matched + 1 : 0;
        return;
      case S.CData:
        this.checkChar(b);
        if (b === RSQB) { if (this.matched < 2) { this.matched++; return; } this.textByte(RSQB); return; }
        if (b === GT && this.matched === 2) { this.state = S.Text; return; }
        for (; this.matched > 0; this.matched--) this.textByte(RSQB);
        this.textByte(b);
        return;
      case S.Declaration: return this.declaration(b);
      case S.StartName:
        if (isNameChar(b)) { this.nameByte(b, 0); return; }
        this.nameEnd = this.length;
        this.state = S.InTag;
        return this.inTag(b);
      case S.InTag: return this.inTag(b);
      case S.AttrName:
        if (isNameChar(b)) { this.nameByte(b, this.nameStart); return; }
        this.endAttributeName();
        this.state = S.AfterAttrName;
        return this.afterAttributeName(b);
      case S.AfterAttrName: return this.afterAttributeName(b);
      case S.BeforeValue:
        if (isSpace(b)) return;
        if (b !== QUOT && b !== APOS) this.fail("syntax", "an attribute value must be quoted");
        this.quote = b;
        this.spans[this.attributeCount * 4 + 2] = this.length;
        this.state = S.Value;
        return;
      case S.Value:
        if (b === this.quote) {
          this.spans[this.attributeCount * 4 + 3] = this.length;
          this.attributeCount++;
          this.state = S.AfterValue;
          return;
        }
        if (b === LT) this.fail("syntax", "\"<\" in an attribute value");
        this.checkChar(b);
        if (b === AMP) { this.entityReturn = S.Value; this.entityLength = 0; this.state = S.Entity; return; }
        // Attribute-value normalisation: each whitespace character becomes a space.
        this.push(isSpace(b) ? 0x20 : b);
        return;
      case S.AfterValue:
        if (isSpace(b)) { this.state = S.InTag; return; }
        if (b === GT || b === SLASH) return this.inTag(b);
        this.fail("syntax", "attributes must be separated by whitespace");
        return;
      case S.SelfClose:
        if (b !== GT) this.fail("syntax", "\"/\" in a start tag must be followed by \">\"");
        this.emitStart(true);
        return;
      case S.EndName:
        if (this.length === 0 ? isNameStart(b) : isNameChar(b)) { this.nameByte(b, 0); return; }
        if (this.length === 0) this.fail("syntax", "an end tag must start with a name");
        this.state = S.AfterEndName;
        return this.afterEndName(b);
      case S.AfterEndName: return this.afterEndName(b);
      case S.Entity: return this.entityByte(b);
    }
  }

  private textByte(b: number): void {
    if (this.limits.skipWhitespaceText && !this.textHasContent) {
      if (isSpace(b)) return;
    }
    if (!isSpace(b) && this.depth === 0) this.fail("text-outside-root", "text outside the root element");
    this.textHasContent = true;
    this.push(b);
  }

  private flushText(): void {
    const length = this.length;
    this.length = 0;
    this.textHasContent = false;
    if (length === 0) return;
    // Only whitespace can have been collected outside the root.
    if (this.depth === 0) return;
    this.handler.text(utf8Decode(this.buffer, 0, length), this.depth);
  }

  private nameByte(b: number, start: number): void {
    if (this.length - start >= this.limits.maxNameBytes) this.fail("name-too-long", `a name is longer than ${this.limits.maxNameBytes} bytes`);
    this.push(b);
  }

  // After "<!": "--" opens a comment, "[CDATA[" a CDATA section; the first
  // byte decides which one is being matched.
  private bang(b: number): void {
    const m = this.matched;
    if (m === 0 && b === 0x44 /* D */) this.fail("doctype", "DOCTYPE is not allowed");
    const open = m > 0 && this.bangIsComment || (m === 0 && b === DASH) ? COMMENT_OPEN : CDATA_OPEN;
    if (m === 0) this.bangIsComment = open === COMMENT_OPEN;
    if (b !== open.charCodeAt(m)) this.fail("syntax", "\"<!\" must open a comment or a CDATA section");
    this.matched = m + 1;
    if (this.matched < open.length) return;
    this.matched = 0;
    if (open === COMMENT_OPEN) { this.skipped = 0; this.state = S.Comment; return; }
    if (this.depth === 0) this.fail("text-outside-root", "CDATA outside the root element");
    this.state = S.CData;
  }

  // "<?xml ...?>": the target must be exactly "xml"; the pseudo-attributes
  // are skipped (bounded), since an XMPP stream is UTF-8 whatever they say.
  private declaration(b: number): void {
    if (++this.skipped > 256) this.fail("token-too-long", "an XML declaration longer than 256 bytes");
    this.checkChar(b);
    if (this.matched < 3) {
      if (b !== "xml".charCodeAt(this.matched)) this.fail("processing-instruction", "processing instructions other than the XML declaration are not allowed");
      this.matched++;
      return;
    }
    if (this.matched === 3) {
      if (!isSpace(b) && b !== QUESTION) this.fail("processing-instruction", "processing instructions other than the XML declaration are not allowed");
      this.matched = 4;
    }
    if (this.matched === 5) {
      if (b === GT) { this.state = S.Text; return; }
      this.matched = 4;
    }
    if (b === QUESTION) this.matched = 5;
  }

  private inTag(b: number): void {
    if (isSpace(b)) return;
    if (b === GT) { this.emitStart(false); return; }
    if (b === SLASH) { this.state = S.SelfClose; return; }
    if (!isNameStart(b)) this.fail("syntax", "malformed start tag");
    // An attribute needs whitespace before it; AfterValue and StartName only reach here after some.
    if (this.attributeCount >= this.limits.maxAttributes) this.fail("too-many-attributes", `more than ${this.limits.maxAttributes} attributes`);
    this.nameStart = this.length;
    this.spans[this.attributeCount * 4] = this.length;
    this.push(b);
    this.state = S.AttrName;
  }

  private endAttributeName(): void {
    const k = this.attributeCount * 4;
    this.spans[k + 1] = this.length;
    // Duplicates are refused by XML; compare bytes rather than build strings.
    const start = this.spans[k], size = this.length - start;
    for (let a = 0; a < this.attributeCount; a++) {
      const s = this.spans[a * 4];
      if (this.spans[a * 4 + 1] - s !== size) continue;
      let same = true;
      for (let j = 0; j < size && same; j++) same = this.buffer[s + j] === this.buffer[start + j];
      if (same) this.fail("duplicate-attribute", `attribute ${utf8Decode(this.buffer, start, this.length)} appears twice`);
    }
  }

  private afterAttributeName(b: number): void {
    if (isSpace(b)) return;
    if (b !== EQ) this.fail("syntax", "an attribute needs \"=\" and a value");
    this.state = S.BeforeValue;
  }

  private afterEndName(b: number): void {
    if (isSpace(b)) return;
    if (b !== GT) this.fail("syntax", "malformed end tag");
    const name = utf8Decode(this.buffer, 0, this.length);
    this.length = 0;
    const open = this.stack[this.stack.length - 1];
    if (open === undefined) this.fail("mismatched-tag", `end tag </${name}> with no open element`);
    if (open !== name) this.fail("mismatched-tag", `end tag </${name}> does not close <${open}>`);
    const depth = this.stack.length;
    this.stack.length = depth - 1;
    this.state = S.Text;
    this.handler.endElement(name, depth);
  }

  private emitStart(selfClosing: boolean): void {
    const buffer = this.buffer;
    const name = utf8Decode(buffer, 0, this.nameEnd);
    const attributes: Record<string, string> = Object.create(null);
    for (let a = 0; a < this.attributeCount; a++) {
      const k = a * 4;
      attributes[utf8Decode(buffer, this.spans[k], this.spans[k + 1])] = utf8Decode(buffer, this.spans[k + 2], this.spans[k + 3]);
    }
    this.length = 0;
    this.attributeCount = 0;
    this.state = S.Text;
    this.seenElement = true;
    this.stack.push(name);
    const depth = this.stack.length;
    if (selfClosing) this.stack.length = depth - 1;
    const epoch = this.epoch;
    this.handler.startElement(name, attributes, selfClosing, depth);
    // Unless the handler restarted the document in between.
    if (selfClosing && this.epoch === epoch) this.handler.endElement(name, depth);
  }

  private entityByte(b: number): void {
    if (b !== SEMI) {
      if (this.entityLength >= MAX_ENTITY_NAME) this.fail("entity", "an entity reference is too long");
      if (!isNameChar(b) && b !== 0x23 /* # */) this.fail("entity", "\"&\" must start an entity reference");
      this.entity[this.entityLength++] = b;
      return;
    }
    const code = this.entityCode();
    this.state = this.entityReturn;
    const bytes = utf8Encode(String.fromCodePoint(code));
    for (let i = 0; i < bytes.length; i++) {
      if (this.state === S.Text) this.textByte(bytes[i]);
      else this.push(bytes[i]);
    }
  }

  private entityCode(): number {
    const e = this.entity, n = this.entityLength;
    let name = "";
    for (let i = 0; i < n; i++) name += String.fromCharCode(e[i]);
    switch (name) {
      case "lt": return 0x3c;
      case "gt": return 0x3e;
      case "amp": return 0x26;
      case "quot": return 0x22;
      case "apos": return 0x27;
    }
    const hex = /^#x([0-9a-fA-F]{1,8})$/.exec(name), dec = /^#([0-9]{1,8})$/.exec(name);
    const code = hex ? parseInt(hex[1], 16) : dec ? parseInt(dec[1], 10) : -1;
    if (code < 0) this.fail("entity", `undefined entity &${name};`);
    if (!isXmlChar(code)) this.fail("entity", `&${name}; is not a character XML allows`);
    return code;
  }
}
