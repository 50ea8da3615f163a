import { utf8Decode } from "../text/utf8.js";
import { GroupTag, ValueTag, type IppAttribute, type IppGroup, type IppMessage, type IppValue } from "./values.js";

// Reads an IPP message (RFC 8010 section 3) as it arrives, from a body that
// goes on with the document. Only whole items are decoded; a partial one
// waits in a buffer no larger than the largest item the limits allow, so
// the cost is the same whatever the chunking. Everything is bounded: the
// head's total size, the number of attributes and values, name and value
// lengths, and how deeply collections nest. Anything else is an IppError,
// which the printer answers with client-error-bad-request.

export interface IppLimits {
  // Bytes of the message head (everything before the document).
  maxBytes: number;
  // Attributes and collection members, counted together.
  maxAttributes: number;
  maxValues: number;
  maxNameLength: number;
  maxValueLength: number;
  // Collections inside collections.
  maxDepth: number;
}

export const defaultIppLimits: IppLimits = {
  maxBytes: 32 * 1024,
  maxAttributes: 256,
  maxValues: 1024,
  maxNameLength: 255,
  maxValueLength: 4096,
  maxDepth: 8,
};

export class IppError extends Error {}

interface Frame {
  members: IppAttribute[];
  current: IppAttribute | undefined;
}

const HEAD_BYTES = 8;

export class MessageDecoder {
  private pending: Uint8Array;
  private pendingLength = 0;
  private headRead = false;
  private consumed = 0;
  private attributes = 0;
  private values = 0;
  private group: IppGroup | undefined;
  private readonly stack: Frame[] = [];
  private done = false;
  readonly message: IppMessage = { major: 0, minor: 0, code: 0, requestId: 0, groups: [] };

  constructor(private readonly limits: IppLimits = defaultIppLimits) {
    this.pending = new Uint8Array(Math.min(256, this.maxItem()));
  }

  // The end-of-attributes tag has been read; message is whole.
  get complete(): boolean {
    return this.done;
  }

  // Bytes of the message read so far (all of it, once complete).
  get size(): number {
    return this.consumed;
  }

  // The head's first 8 bytes have arrived (version, code and request-id are set).
  get started(): boolean {
    return this.headRead;
  }

  // Takes bytes from chunk until the message is whole; returns how many it
  // used. The rest of the chunk (and of the body) is the document.
  feed(chunk: Uint8Array): number {
    let used = 0;
    while (used < chunk.length && !this.done) {
      if (this.pendingLength === 0) {
        used = this.parse(chunk, used, chunk.length);
        if (this.done || used === chunk.length) break;
      }
      // An item cut by a chunk's end: top it up to the size its known
      // lengths give (which grows as they become known), then decode it.
      const want = this.needed(this.pending, this.pendingLength);
      const take = Math.min(chunk.length - used, want - this.pendingLength);
      this.append(chunk, used, take);
      used += take;
      if (this.pendingLength === this.needed(this.pending, this.pendingLength)) {
        const end = this.parse(this.pending, 0, this.pendingLength);
        if (end !== this.pendingLength) throw new Error("ipp: an item was not read whole");
        this.pendingLength = 0;
      }
    }
    return used;
  }

  // The whole body ended: a head without its end tag is a bad request.
  finish(): void {
    if (!this.done) throw new IppError(this.headRead ? "the request ends before its end-of-attributes tag" : "the request is shorter than an IPP header");
  }

  private maxItem(): number {
    return 5 + this.limits.maxNameLength + this.limits.maxValueLength;
  }

  private append(chunk: Uint8Array, from: number, count: number): void {
    if (this.pendingLength + count > this.pending.length) {
      const grown = new Uint8Array(Math.min(this.maxItem(), Math.max(this.pending.length * 2, this.pendingLength + count)));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(chunk.subarray(from, from + count), this.pendingLength);
    this.pendingLength += count;
  }

  // Bytes the item at the start of buf needs, as far as its known lengths
  // tell: more than it holds until every length is known, then its size.
  private needed(buf: Uint8Array, length: number): number {
    if (!this.headRead) return HEAD_BYTES;
    if (length < 1) return 1;
    if (buf[0] < 0x10) return 1;
    if (length < 3) return 3;
    const nameLength = this.checkName((buf[1] << 8) | buf[2]);
    if (length < 5 + nameLength) return 5 + nameLength;
    return 5 + nameLength + this.checkValue((buf[3 + nameLength] << 8) | buf[4 + nameLength]);
  }

  private checkName(length: number): number {
    if (length > this.limits.maxNameLength) throw new IppError(`an attribute name is ${length} bytes; at most ${this.limits.maxNameLength} are taken`);
    return length;
  }

  private checkValue(length: number): number {
    if (length > this.limits.maxValueLength) throw new IppError(`a value is ${length} bytes; at most ${this.limits.maxValueLength} are taken`);
    return length;
  }

  private count(bytes: number): void {
    this.consumed += bytes;
    if (this.consumed > this.limits.maxBytes) throw new IppError(`the request's attributes pass ${this.limits.maxBytes} bytes`);
  }

  // Decodes every whole item in buf[start, end); returns where the first
  // partial one starts (or where the message ended).
  private parse(buf: Uint8Array, start: number, end: number): number {
    let pos = start;
    while (!this.done) {
      if (!this.headRead) {
        if (end - pos < HEAD_BYTES) return pos;
        this.count(HEAD_BYTES);
        const m = this.message;
        m.major = buf[pos];
        m.minor = buf[pos + 1];
        m.code = (buf[pos + 2] << 8) | buf[pos + 3];
        m.requestId = ((buf[pos + 4] << 24) | (buf[pos + 5] << 16) | (buf[pos + 6] << 8) | buf[pos + 7]) >>> 0;
        this.headRead = true;
        pos += HEAD_BYTES;
        continue;
      }
      if (pos >= end) return pos;
      const tag = buf[pos];
      if (tag < 0x10) {
        this.count(1);
        pos++;
        this.delimiter(tag);
        continue;
      }
      if (end - pos < 3) return pos;
      const nameLength = this.checkName((buf[pos + 1] << 8) | buf[pos + 2]);
      if (end - pos < 5 + nameLength) return pos;
      const valueLength = this.checkValue((buf[pos + 3 + nameLength] << 8) | buf[pos + 4 + nameLength]);
      const size = 5 + nameLength + valueLength;
      if (end - pos < size) return pos;
      this.count(size);
      const nameStart = pos + 3;
      const valueStart = pos + 5 + nameLength;
      this.item(tag, buf, nameStart, nameLength, valueStart, valueLength);
      pos += size;
    }
    return pos;
  }

  private delimiter(tag: number): void {
    if (this.stack.length > 0) throw new IppError("a group tag appears inside a collection");
    if (tag === 0x00) throw new IppError("tag 0x00 is reserved");
    if (tag === GroupTag.end) {
      this.done = true;
      return;
    }
    if (this.message.groups.length >= this.limits.maxAttributes) throw new IppError("too many attribute groups");
    this.group = { tag, attributes: [] };
    this.message.groups.push(this.group);
  }

  private item(tag: number, buf: Uint8Array, nameStart: number, nameLength: number, valueStart: number, valueLength: number): void {
    if (tag === 0x7f) throw new IppError("extended value tags are not supported");
    const frame = this.stack[this.stack.length - 1];
    if (frame) return this.member(frame, tag, buf, nameLength, valueStart, valueLength);
    if (!this.group) throw new IppError("an attribute comes before any group tag");
    if (tag === ValueTag.memberAttrName || tag === ValueTag.endCollection) throw new IppError("a collection member appears outside a collection");
    let attribute: IppAttribute;
    if (nameLength > 0) {
      attribute = { name: utf8Decode(buf, nameStart, nameStart + nameLength), values: [] };
      this.countAttribute();
      this.group.attributes.push(attribute);
    } else {
      const last = this.group.attributes[this.group.attributes.length - 1];
      if (!last) throw new IppError("a value without a name starts a group");
      attribute = last;
    }
    this.addValue(attribute, tag, buf, valueStart, valueLength);
  }

  private member(frame: Frame, tag: number, buf: Uint8Array, nameLength: number, valueStart: number, valueLength: number): void {
    if (nameLength > 0) throw new IppError("a collection member has a name of its own; members are named by memberAttrName");
    if (tag === ValueTag.memberAttrName) {
      if (valueLength === 0) throw new IppError("memberAttrName is empty");
      // RFC 8010 3.1.6: every member has at least one value. A member left
      // empty would otherwise reach the operations, and the encoder, which
      // cannot write it back in unsupported-attributes.
      if (frame.current && frame.current.values.length === 0) throw new IppError(`collection member ${frame.current.name} has no value`);
      this.countAttribute();
      frame.current = { name: utf8Decode(buf, valueStart, valueStart + valueLength), values: [] };
      frame.members.push(frame.current);
      return;
    }
    if (tag === ValueTag.endCollection) {
      if (frame.current && frame.current.values.length === 0) throw new IppError(`collection member ${frame.current.name} has no value`);
      this.stack.pop();
      return;
    }
    if (!frame.current) throw new IppError("a collection value comes before its memberAttrName");
    this.addValue(frame.current, tag, buf, valueStart, valueLength);
  }

  private countAttribute(): void {
    if (++this.attributes > this.limits.maxAttributes) throw new IppError(`the request has more than ${this.limits.maxAttributes} attributes`);
  }

  private addValue(attribute: IppAttribute, tag: number, buf: Uint8Array, start: number, length: number): void {
    if (++this.values > this.limits.maxValues) throw new IppError(`the request has more than ${this.limits.maxValues} values`);
    if (tag === ValueTag.begCollection) {
      if (this.stack.length >= this.limits.maxDepth) throw new IppError(`collections nest deeper than ${this.limits.maxDepth}`);
      const value: IppValue = { kind: "collection", tag, members: [] };
      attribute.values.push(value);
      this.stack.push({ members: value.members, current: undefined });
      return;
    }
    attribute.values.push(decodeValue(attribute.name, tag, buf, start, length));
  }
}

// Why a decoded message is not one the operations may be given, or
// undefined when it is: every attribute and collection member has a name and
// at least one value, and collections nest no deeper than the limits say.
// The decoder already refuses all of this as it reads; this is the check an
// operation relies on before it makes a job or starts printing, whatever
// built the message.
export function messageProblem(message: IppMessage, limits: IppLimits = defaultIppLimits): string | undefined {
  for (const group of message.groups) {
    for (const attribute of group.attributes) {
      const problem = attributeProblem(attribute, 0, limits.maxDepth);
      if (problem) return problem;
    }
  }
  return undefined;
}

function attributeProblem(attribute: IppAttribute, depth: number, maxDepth: number): string | undefined {
  const what = depth === 0 ? "attribute" : "collection member";
  if (attribute.name.length === 0) return `a ${what} has no name`;
  if (attribute.values.length === 0) return `${what} ${attribute.name} has no value`;
  for (const value of attribute.values) {
    if (value.kind !== "collection") continue;
    if (depth >= maxDepth) return `collections nest deeper than ${maxDepth}`;
    for (const member of value.members) {
      const problem = attributeProblem(member, depth + 1, maxDepth);
      if (problem) return problem;
    }
  }
  return undefined;
}

function int32(buf: Uint8Array, at: number): number {
  return (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3];
}

function expectLength(attrName: string, what: string, length: number, wanted: number): void {
  if (length !== wanted) throw new IppError(`${attrName}: a ${what} value is ${length} bytes, not ${wanted}`);
}

function decodeValue(attrName: string, tag: number, buf: Uint8Array, start: number, length: number): IppValue {
  // Out-of-band values (0x10-0x1f) carry no value.
  if (tag >= 0x10 && tag <= 0x1f) return { kind: "none", tag };
  switch (tag) {
    case ValueTag.integer:
    case ValueTag.enum:
      expectLength(attrName, "integer", length, 4);
      return { kind: "integer", tag, value: int32(buf, start) };
    case ValueTag.boolean:
      expectLength(attrName, "boolean", length, 1);
      if (buf[start] > 1) throw new IppError(`${attrName}: a boolean is 0 or 1, not ${buf[start]}`);
      return { kind: "boolean", tag, value: buf[start] === 1 };
    case ValueTag.dateTime:
      expectLength(attrName, "dateTime", length, 11);
      return { kind: "octets", tag, value: buf.slice(start, start + length) };
    case ValueTag.resolution:
      expectLength(attrName, "resolution", length, 9);
      return { kind: "resolution", tag, x: int32(buf, start), y: int32(buf, start + 4), units: buf[start + 8] };
    case ValueTag.rangeOfInteger:
      expectLength(attrName, "rangeOfInteger", length, 8);
      return { kind: "range", tag, lower: int32(buf, start), upper: int32(buf, start + 4) };
    case ValueTag.textWithLanguage:
    case ValueTag.nameWithLanguage: {
      if (length < 4) throw new IppError(`${attrName}: a value with a language is too short`);
      const langLength = (buf[start] << 8) | buf[start + 1];
      if (4 + langLength > length) throw new IppError(`${attrName}: its language runs past the value`);
      const textAt = start + 2 + langLength;
      const textLength = (buf[textAt] << 8) | buf[textAt + 1];
      if (4 + langLength + textLength !== length) throw new IppError(`${attrName}: the text's length does not match the value's`);
      return { kind: "language", tag, language: utf8Decode(buf, start + 2, textAt), value: utf8Decode(buf, textAt + 2, textAt + 2 + textLength) };
    }
    default:
      // Character strings (0x40-0x5f); anything else is kept as bytes.
      if (tag >= 0x40 && tag <= 0x5f) return { kind: "string", tag, value: utf8Decode(buf, start, start + length) };
      return { kind: "octets", tag, value: buf.slice(start, start + length) };
  }
}

// A whole message in one buffer (tests, small bodies). Bytes after the end
// tag are the document; their offset is returned with the message.
export function decodeMessage(bytes: Uint8Array, limits: IppLimits = defaultIppLimits): { message: IppMessage; documentOffset: number } {
  const decoder = new MessageDecoder(limits);
  const used = decoder.feed(bytes);
  decoder.finish();
  return { message: decoder.message, documentOffset: used };
}
