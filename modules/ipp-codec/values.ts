// The vocabulary of an IPP message (RFC 8010 section 3): group and value
// tags, operation and status codes, and the shapes values take once decoded.

export const GroupTag = {
  operation: 0x01,
  job: 0x02,
  end: 0x03,
  printer: 0x04,
  unsupported: 0x05,
} as const;

export const ValueTag = {
  unsupported: 0x10,
  unknown: 0x12,
  noValue: 0x13,
  integer: 0x21,
  boolean: 0x22,
  enum: 0x23,
  octetString: 0x30,
  dateTime: 0x31,
  resolution: 0x32,
  rangeOfInteger: 0x33,
  begCollection: 0x34,
  textWithLanguage: 0x35,
  nameWithLanguage: 0x36,
  endCollection: 0x37,
  text: 0x41,
  name: 0x42,
  keyword: 0x44,
  uri: 0x45,
  uriScheme: 0x46,
  charset: 0x47,
  naturalLanguage: 0x48,
  mimeMediaType: 0x49,
  memberAttrName: 0x4a,
} as const;

export const Operation = {
  printJob: 0x0002,
  validateJob: 0x0004,
  createJob: 0x0005,
  sendDocument: 0x0006,
  cancelJob: 0x0008,
  getJobAttributes: 0x0009,
  getJobs: 0x000a,
  getPrinterAttributes: 0x000b,
  cancelMyJobs: 0x0039,
  closeJob: 0x003b,
  identifyPrinter: 0x003c,
} as const;

export const Status = {
  ok: 0x0000,
  okIgnoredOrSubstituted: 0x0001,
  badRequest: 0x0400,
  forbidden: 0x0401,
  notPossible: 0x0404,
  notFound: 0x0406,
  requestEntityTooLarge: 0x0408,
  documentFormatNotSupported: 0x040a,
  attributesOrValuesNotSupported: 0x040b,
  charsetNotSupported: 0x040d,
  compressionNotSupported: 0x040f,
  documentFormatError: 0x0411,
  internalError: 0x0500,
  operationNotSupported: 0x0501,
  versionNotSupported: 0x0503,
  deviceError: 0x0504,
  notAcceptingJobs: 0x0506,
  busy: 0x0507,
  jobCanceled: 0x0508,
  multipleDocumentJobsNotSupported: 0x0509,
} as const;

// One value with the tag it travels under. Strings cover every character
// string tag (text, name, keyword, uri, charset, mimeMediaType...); octets
// cover octetString, dateTime and any tag this codec does not know, so an
// unknown value survives a round trip.
export type IppValue =
  | { kind: "none"; tag: number }
  | { kind: "integer"; tag: number; value: number }
  | { kind: "boolean"; tag: number; value: boolean }
  | { kind: "string"; tag: number; value: string }
  | { kind: "language"; tag: number; value: string; language: string }
  | { kind: "octets"; tag: number; value: Uint8Array }
  | { kind: "resolution"; tag: number; x: number; y: number; units: number }
  | { kind: "range"; tag: number; lower: number; upper: number }
  | { kind: "collection"; tag: number; members: IppAttribute[] };

export interface IppAttribute {
  name: string;
  values: IppValue[];
}

export interface IppGroup {
  tag: number;
  attributes: IppAttribute[];
  // More attributes, made while the message is written (once to count it,
  // once to write it) and handed to visit one by one: a long answer's
  // objects never all live at once, and its bytes are only the message's.
  each?: (visit: (attribute: IppAttribute) => void) => void;
}

export interface IppMessage {
  major: number;
  minor: number;
  // The operation-id of a request, the status-code of a response.
  code: number;
  requestId: number;
  groups: IppGroup[];
}

// Resolution units (RFC 8011 5.1.16).
export const DOTS_PER_INCH = 3;

export const integer = (value: number): IppValue => ({ kind: "integer", tag: ValueTag.integer, value });
export const enumValue = (value: number): IppValue => ({ kind: "integer", tag: ValueTag.enum, value });
export const boolean = (value: boolean): IppValue => ({ kind: "boolean", tag: ValueTag.boolean, value });
export const keyword = (value: string): IppValue => ({ kind: "string", tag: ValueTag.keyword, value });
export const text = (value: string): IppValue => ({ kind: "string", tag: ValueTag.text, value });
export const name = (value: string): IppValue => ({ kind: "string", tag: ValueTag.name, value });
export const uri = (value: string): IppValue => ({ kind: "string", tag: ValueTag.uri, value });
export const uriScheme = (value: string): IppValue => ({ kind: "string", tag: ValueTag.uriScheme, value });
export const charset = (value: string): IppValue => ({ kind: "string", tag: ValueTag.charset, value });
export const language = (value: string): IppValue => ({ kind: "string", tag: ValueTag.naturalLanguage, value });
export const mimeType = (value: string): IppValue => ({ kind: "string", tag: ValueTag.mimeMediaType, value });
export const octets = (value: Uint8Array): IppValue => ({ kind: "octets", tag: ValueTag.octetString, value });
export const range = (lower: number, upper: number): IppValue => ({ kind: "range", tag: ValueTag.rangeOfInteger, lower, upper });
export const resolution = (x: number, y: number, units = DOTS_PER_INCH): IppValue => ({ kind: "resolution", tag: ValueTag.resolution, x, y, units });
export const collection = (members: IppAttribute[]): IppValue => ({ kind: "collection", tag: ValueTag.begCollection, members });
export const noValue = (): IppValue => ({ kind: "none", tag: ValueTag.noValue });
export const unknownValue = (): IppValue => ({ kind: "none", tag: ValueTag.unknown });
export const unsupportedValue = (): IppValue => ({ kind: "none", tag: ValueTag.unsupported });

// RFC 2579 DateAndTime, which IPP's dateTime is: UTC, so the offset is +0000.
export function dateTime(epochMs: number): IppValue {
  const d = new Date(epochMs);
  const year = d.getUTCFullYear();
  const bytes = new Uint8Array([
    (year >> 8) & 0xff, year & 0xff, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(),
    d.getUTCSeconds(), Math.floor(d.getUTCMilliseconds() / 100), 0x2b, 0, 0,
  ]);
  return { kind: "octets", tag: ValueTag.dateTime, value: bytes };
}

export function attr(attrName: string, ...values: IppValue[]): IppAttribute {
  return { name: attrName, values };
}

// ---- reading a decoded request ----

export function find(group: IppGroup | undefined, attrName: string): IppAttribute | undefined {
  return group?.attributes.find((a) => a.name === attrName);
}

export function firstString(attribute: IppAttribute | undefined): string | undefined {
  const value = attribute?.values[0];
  return value && (value.kind === "string" || value.kind === "language") ? value.value : undefined;
}

export function firstInteger(attribute: IppAttribute | undefined): number | undefined {
  const value = attribute?.values[0];
  return value && value.kind === "integer" ? value.value : undefined;
}

export function firstBoolean(attribute: IppAttribute | undefined): boolean | undefined {
  const value = attribute?.values[0];
  return value && value.kind === "boolean" ? value.value : undefined;
}
