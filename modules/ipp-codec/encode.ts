import { utf8Length, utf8Write } from "../text/utf8.js";
import { GroupTag, ValueTag, type IppAttribute, type IppMessage, type IppValue } from "./values.js";

// Writes an IPP message (RFC 8010 section 3): the 8-byte head, each group's
// attributes (one name, then its further values with empty names),
// collections as begCollection / memberAttrName / endCollection, and the
// end-of-attributes tag. The same walk runs twice, first only counting, then
// writing into one buffer of the exact size: a Get-Printer-Attributes answer
// has hundreds of items, and a small array for each ran the board's heap out.

class Writer {
  // Without out it only counts.
  constructor(private readonly out?: Uint8Array, private pos = 0) {}

  get size(): number {
    return this.pos;
  }

  u8(value: number): void {
    if (this.out) this.out[this.pos] = value & 0xff;
    this.pos++;
  }

  u16(value: number): void {
    this.u8(value >> 8);
    this.u8(value);
  }

  i32(value: number): void {
    this.u8(value >>> 24);
    this.u8(value >>> 16);
    this.u8(value >>> 8);
    this.u8(value);
  }

  text(value: string): void {
    if (this.out) this.pos = utf8Write(value, this.out, this.pos);
    else this.pos += utf8Length(value);
  }

  bytes(value: Uint8Array): void {
    if (this.out) this.out.set(value, this.pos);
    this.pos += value.length;
  }

  // tag, name-length, name, value-length; the value follows.
  head(tag: number, itemName: string, valueLength: number): void {
    const nameLength = utf8Length(itemName);
    if (nameLength > 0x7fff || valueLength > 0x7fff) throw new Error(`ipp: ${itemName || "a value"} is too long to encode`);
    this.u8(tag);
    this.u16(nameLength);
    this.text(itemName);
    this.u16(valueLength);
  }
}

function valueLength(value: IppValue): number {
  switch (value.kind) {
    case "none":
      return 0;
    case "integer":
      return 4;
    case "boolean":
      return 1;
    case "string":
      return utf8Length(value.value);
    case "octets":
      return value.value.length;
    case "language":
      return 4 + utf8Length(value.language) + utf8Length(value.value);
    case "resolution":
      return 9;
    case "range":
      return 8;
    case "collection":
      throw new Error("ipp: a collection has no flat value");
  }
}

function writeFlat(writer: Writer, itemName: string, value: Exclude<IppValue, { kind: "collection" }>): void {
  writer.head(value.tag, itemName, valueLength(value));
  switch (value.kind) {
    case "none":
      return;
    case "integer":
      return writer.i32(value.value);
    case "boolean":
      return writer.u8(value.value ? 1 : 0);
    case "string":
      return writer.text(value.value);
    case "octets":
      return writer.bytes(value.value);
    case "language":
      writer.u16(utf8Length(value.language));
      writer.text(value.language);
      writer.u16(utf8Length(value.value));
      return writer.text(value.value);
    case "resolution":
      writer.i32(value.x);
      writer.i32(value.y);
      return writer.u8(value.units);
    case "range":
      writer.i32(value.lower);
      return writer.i32(value.upper);
  }
}

function writeValue(writer: Writer, itemName: string, value: IppValue): void {
  if (value.kind !== "collection") return writeFlat(writer, itemName, value);
  writer.head(ValueTag.begCollection, itemName, 0);
  for (const member of value.members) writeAttribute(writer, member, true);
  writer.head(ValueTag.endCollection, "", 0);
}

function writeAttribute(writer: Writer, attribute: IppAttribute, member: boolean): void {
  if (attribute.values.length === 0) throw new Error(`ipp: ${attribute.name} has no value`);
  // A member's name travels as the value of a memberAttrName item, and all
  // its values follow with empty names.
  if (member) {
    writer.head(ValueTag.memberAttrName, "", utf8Length(attribute.name));
    writer.text(attribute.name);
  }
  const values = attribute.values;
  for (let i = 0; i < values.length; i++) writeValue(writer, member || i > 0 ? "" : attribute.name, values[i]);
}

function write(writer: Writer, message: IppMessage): void {
  writer.u8(message.major);
  writer.u8(message.minor);
  writer.u16(message.code);
  writer.i32(message.requestId);
  for (const group of message.groups) {
    writer.u8(group.tag);
    for (const attribute of group.attributes) writeAttribute(writer, attribute, false);
    group.each?.((attribute) => writeAttribute(writer, attribute, false));
  }
  writer.u8(GroupTag.end);
}

export function encodeMessage(message: IppMessage): Uint8Array {
  const counter = new Writer();
  write(counter, message);
  const out = new Uint8Array(counter.size);
  const writer = new Writer(out);
  write(writer, message);
  if (writer.size !== out.length) throw new Error("ipp: the answer changed while it was written");
  return out;
}
