import { utf8Encode } from "../text/utf8.js";
import { GroupTag, ValueTag, type IppAttribute, type IppMessage, type IppValue } from "./values.js";

// Writes an IPP message (RFC 8010 section 3): the 8-byte head, each group's
// attributes (one name, then its further values with empty names),
// collections as begCollection / memberAttrName / endCollection, and the
// end-of-attributes tag. Two passes over small pieces of text keep it to
// one exact allocation.

class Writer {
  private parts: Uint8Array[] = [];
  private size = 0;

  bytes(data: Uint8Array): void {
    this.parts.push(data);
    this.size += data.length;
  }

  u8(...values: number[]): void {
    this.bytes(Uint8Array.from(values));
  }

  u16(value: number): void {
    this.u8((value >> 8) & 0xff, value & 0xff);
  }

  i32(value: number): void {
    this.u8((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
  }

  // tag, name-length, name, value-length, value
  item(tag: number, itemName: string, value: Uint8Array): void {
    const nameBytes = utf8Encode(itemName);
    if (nameBytes.length > 0x7fff || value.length > 0x7fff) throw new Error(`ipp: ${itemName || "a value"} is too long to encode`);
    this.u8(tag);
    this.u16(nameBytes.length);
    this.bytes(nameBytes);
    this.u16(value.length);
    this.bytes(value);
  }

  result(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function int32(value: number): Uint8Array {
  return Uint8Array.from([(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

function valueBytes(value: IppValue): Uint8Array {
  switch (value.kind) {
    case "none":
      return new Uint8Array(0);
    case "integer":
      return int32(value.value);
    case "boolean":
      return Uint8Array.of(value.value ? 1 : 0);
    case "string":
      return utf8Encode(value.value);
    case "octets":
      return value.value;
    case "language": {
      const lang = utf8Encode(value.language);
      const body = utf8Encode(value.value);
      const out = new Uint8Array(4 + lang.length + body.length);
      out[0] = lang.length >> 8; out[1] = lang.length & 0xff;
      out.set(lang, 2);
      out[2 + lang.length] = body.length >> 8; out[3 + lang.length] = body.length & 0xff;
      out.set(body, 4 + lang.length);
      return out;
    }
    case "resolution": {
      const out = new Uint8Array(9);
      out.set(int32(value.x), 0);
      out.set(int32(value.y), 4);
      out[8] = value.units;
      return out;
    }
    case "range": {
      const out = new Uint8Array(8);
      out.set(int32(value.lower), 0);
      out.set(int32(value.upper), 4);
      return out;
    }
    case "collection":
      throw new Error("ipp: a collection has no flat value");
  }
}

function writeValue(writer: Writer, itemName: string, value: IppValue): void {
  if (value.kind !== "collection") return writer.item(value.tag, itemName, valueBytes(value));
  writer.item(ValueTag.begCollection, itemName, new Uint8Array(0));
  for (const member of value.members) writeAttribute(writer, member, true);
  writer.item(ValueTag.endCollection, "", new Uint8Array(0));
}

function writeAttribute(writer: Writer, attribute: IppAttribute, member: boolean): void {
  if (attribute.values.length === 0) throw new Error(`ipp: ${attribute.name} has no value`);
  // A member's name travels as the value of a memberAttrName item, and all
  // its values follow with empty names.
  if (member) writer.item(ValueTag.memberAttrName, "", utf8Encode(attribute.name));
  attribute.values.forEach((value, i) => writeValue(writer, member || i > 0 ? "" : attribute.name, value));
}

export function encodeMessage(message: IppMessage): Uint8Array {
  const writer = new Writer();
  writer.u8(message.major, message.minor);
  writer.u16(message.code);
  writer.i32(message.requestId);
  for (const group of message.groups) {
    writer.u8(group.tag);
    for (const attribute of group.attributes) writeAttribute(writer, attribute, false);
  }
  writer.u8(GroupTag.end);
  return writer.result();
}
