import test from "ava";
import { IppError, MessageDecoder, decodeMessage, defaultIppLimits, type IppLimits } from "../modules/ipp-codec/decode.js";
import { encodeMessage } from "../modules/ipp-codec/encode.js";
import {
  GroupTag, Operation, ValueTag, attr, boolean, charset, collection, dateTime, enumValue, integer, keyword, language,
  mimeType, name, noValue, octets, range, resolution, text, unknownValue, unsupportedValue, uri, uriScheme,
  type IppMessage, type IppValue,
} from "../modules/ipp-codec/values.js";
import { SeededRandom } from "./helpers/seeded-random.js";
import { mutate } from "./helpers/ipp-mutate.js";

// Every value tag the operations use, 1setOf values, collections in
// collections, and a tag the codec does not know (kept as bytes).
function everyTag(): IppMessage {
  const withLanguage = (tag: number, value: string, lang: string): IppValue => ({ kind: "language", tag, value, language: lang });
  return {
    major: 2, minor: 0, code: Operation.printJob, requestId: 0x7fffffff,
    groups: [
      {
        tag: GroupTag.operation,
        attributes: [
          attr("attributes-charset", charset("utf-8")),
          attr("attributes-natural-language", language("en-us")),
          attr("printer-uri", uri("ipp://printer.local:631/ipp/print")),
          attr("requesting-user-name", name("Zoë")),
          attr("job-name", withLanguage(ValueTag.nameWithLanguage, "Résumé", "fr")),
          attr("document-format", mimeType("image/pwg-raster")),
          attr("ipp-attribute-fidelity", boolean(true)),
          attr("last-document", boolean(false)),
          attr("reference-uri-schemes", uriScheme("http"), uriScheme("ftp")),
        ],
      },
      {
        tag: GroupTag.job,
        attributes: [
          attr("copies", integer(-5)),
          attr("orientation-requested", enumValue(3)),
          attr("job-state-message", withLanguage(ValueTag.textWithLanguage, "日本語のテキスト", "ja")),
          attr("job-description", text("a\u0000b")),
          attr("printer-resolution", resolution(600, 300), resolution(150, 150, 4)),
          attr("page-ranges", range(1, 3), range(-1, 2147483647)),
          attr("date-time-at-creation", dateTime(Date.UTC(2026, 10, 29, 12, 0, 5, 300))),
          attr("job-password", octets(Uint8Array.of(0, 255, 1, 128))),
          attr("media-col", collection([
            attr("media-size", collection([attr("x-dimension", integer(21000)), attr("y-dimension", integer(29700))])),
            attr("media-source", keyword("main")),
            attr("media-type", keyword("stationery"), keyword("photographic")),
            attr("media-bottom-margin", integer(0)),
          ]), collection([])),
          attr("mixed", keyword("none"), noValue(), integer(7)),
          attr("out-of-band", unsupportedValue(), unknownValue(), noValue()),
          attr("future-tag", { kind: "octets", tag: 0x38, value: Uint8Array.of(1, 2, 3) }),
        ],
      },
      { tag: GroupTag.printer, attributes: [] },
    ],
  };
}

test("every value tag survives encode then decode, and re-encodes to the same bytes", (t) => {
  const message = everyTag();
  const bytes = encodeMessage(message);
  const { message: decoded, documentOffset } = decodeMessage(bytes);
  t.deepEqual(decoded, message);
  t.is(documentOffset, bytes.length);
  t.deepEqual(encodeMessage(decoded), bytes);
});

test("the wire format is RFC 8010's: head, named attribute, further values with empty names, collections by memberAttrName", (t) => {
  const bytes = encodeMessage({
    major: 1, minor: 1, code: 0x000b, requestId: 1,
    groups: [{ tag: GroupTag.operation, attributes: [
      attr("a", keyword("x"), keyword("y")),
      attr("c", collection([attr("m", integer(1))])),
    ] }],
  });
  const expected = [
    0x01, 0x01, 0x00, 0x0b, 0, 0, 0, 1,
    0x01,
    0x44, 0, 1, 0x61, 0, 1, 0x78,
    0x44, 0, 0, 0, 1, 0x79,
    0x34, 0, 1, 0x63, 0, 0,
    0x4a, 0, 0, 0, 1, 0x6d,
    0x21, 0, 0, 0, 4, 0, 0, 0, 1,
    0x37, 0, 0, 0, 0,
    0x03,
  ];
  t.deepEqual([...bytes], expected);
});

test("split anywhere, fed a byte at a time, the head decodes the same and the document starts where it should", (t) => {
  const head = encodeMessage(everyTag());
  const document = Uint8Array.from({ length: 100 }, (_, i) => (i * 7) & 0xff);
  const body = new Uint8Array(head.length + document.length);
  body.set(head);
  body.set(document, head.length);
  const expected = decodeMessage(head).message;
  for (let split = 0; split <= body.length; split++) {
    const decoder = new MessageDecoder();
    let used = decoder.feed(body.subarray(0, split));
    let rest = body.subarray(used);
    if (!decoder.complete) {
      const second = body.subarray(split);
      used = decoder.feed(second);
      rest = second.subarray(used);
    }
    t.true(decoder.complete, `split at ${split}`);
    t.deepEqual(rest, document, `split at ${split}`);
    if (split % 97 === 0) t.deepEqual(decoder.message, expected);
  }
  const decoder = new MessageDecoder();
  let offset = 0;
  while (!decoder.complete) offset += decoder.feed(body.subarray(offset, offset + 1));
  t.is(offset, head.length);
  t.deepEqual(decoder.message, expected);
});

function refused(t: import("ava").ExecutionContext, bytes: Uint8Array, pattern: RegExp, limits?: IppLimits): void {
  const error = t.throws(() => decodeMessage(bytes, limits));
  t.true(error instanceof IppError, `not an IppError: ${String(error)}`);
  t.regex(error!.message, pattern);
}

const HEAD = [2, 0, 0, 0x0b, 0, 0, 0, 1];

test("limits: attributes, values, name and value lengths, nesting and total size are refused with a reason", (t) => {
  const many = (n: number) => encodeMessage({ major: 2, minor: 0, code: 0x0b, requestId: 1, groups: [{ tag: 1, attributes: Array.from({ length: n }, (_, i) => attr(`a${i}`, integer(i))) }] });
  t.notThrows(() => decodeMessage(many(defaultIppLimits.maxAttributes)));
  refused(t, many(defaultIppLimits.maxAttributes + 1), /more than 256 attributes/);
  const values = encodeMessage({ major: 2, minor: 0, code: 0x0b, requestId: 1, groups: [{ tag: 1, attributes: [attr("a", ...Array.from({ length: 11 }, () => integer(1)))] }] });
  refused(t, values, /more than 10 values/, { ...defaultIppLimits, maxValues: 10 });
  refused(t, Uint8Array.from([...HEAD, 1, 0x44, 1, 0, ...new Array(256).fill(0x61), 0, 0, 3]), /name is 256 bytes/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x41, 0, 1, 0x61, 0x10, 0x01]), /value is 4097 bytes/);
  let nested: IppValue = integer(1);
  for (let depth = 0; depth < 9; depth++) nested = collection([attr("m", nested)]);
  refused(t, encodeMessage({ major: 2, minor: 0, code: 0x0b, requestId: 1, groups: [{ tag: 1, attributes: [attr("deep", nested)] }] }), /nest deeper than 8/);
  const big = encodeMessage({ major: 2, minor: 0, code: 0x0b, requestId: 1, groups: [{ tag: 1, attributes: Array.from({ length: 10 }, (_, i) => attr(`t${i}`, text("x".repeat(4000)))) }] });
  refused(t, big, /pass 32768 bytes/);
});

test("malformed structure and values are refused, each with its own reason", (t) => {
  refused(t, Uint8Array.from([2, 0, 0]), /shorter than an IPP header/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x21, 0, 1, 0x61, 0, 4, 0, 0]), /before its end-of-attributes/);
  refused(t, Uint8Array.from([...HEAD, 0x21, 0, 1, 0x61, 0, 4, 0, 0, 0, 1, 3]), /before any group tag/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x21, 0, 0, 0, 4, 0, 0, 0, 1, 3]), /without a name starts a group/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x4a, 0, 0, 0, 1, 0x61, 3]), /outside a collection/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x34, 0, 1, 0x63, 0, 0, 0x02, 3]), /group tag appears inside a collection/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x34, 0, 1, 0x63, 0, 0, 0x21, 0, 0, 0, 4, 0, 0, 0, 1]), /before its memberAttrName/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x34, 0, 1, 0x63, 0, 0, 0x4a, 0, 1, 0x61, 0, 1, 0x6d]), /has a name of its own/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x34, 0, 1, 0x63, 0, 0, 0x4a, 0, 0, 0, 1, 0x6d, 0x37, 0, 0, 0, 0, 3]), /member m has no value/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x21, 0, 1, 0x61, 0, 3, 0, 0, 1, 3]), /integer value is 3 bytes/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x22, 0, 1, 0x61, 0, 1, 2, 3]), /boolean is 0 or 1/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x32, 0, 1, 0x61, 0, 8, 0, 0, 0, 1, 0, 0, 0, 1, 3]), /resolution value is 8 bytes/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x33, 0, 1, 0x61, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0, 3]), /rangeOfInteger value is 9 bytes/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x31, 0, 1, 0x61, 0, 2, 0, 0, 3]), /dateTime value is 2 bytes/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x35, 0, 1, 0x61, 0, 6, 0, 9, 0x65, 0x6e, 0, 0, 3]), /language runs past/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x35, 0, 1, 0x61, 0, 6, 0, 2, 0x65, 0x6e, 0, 5, 3]), /text's length does not match/);
  refused(t, Uint8Array.from([...HEAD, 1, 0x7f, 0, 1, 0x61, 0, 0, 3]), /extended value tags/);
  refused(t, Uint8Array.from([...HEAD, 0, 3]), /reserved/);
});

const SEED_MESSAGES = (): Uint8Array[] => [
  encodeMessage(everyTag()),
  encodeMessage({ major: 2, minor: 0, code: Operation.getPrinterAttributes, requestId: 7, groups: [{ tag: 1, attributes: [
    attr("attributes-charset", charset("utf-8")), attr("attributes-natural-language", language("en")),
    attr("printer-uri", uri("ipp://127.0.0.1/ipp/print")), attr("requested-attributes", keyword("all"), keyword("media-col-database")),
  ] }] }),
];

test("5000 seeded mutations of valid messages: each decodes or is an IppError, whatever the chunking", (t) => {
  const random = new SeededRandom(0x1bb);
  const seeds = SEED_MESSAGES();
  let decoded = 0;
  let refusedCount = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = mutate(random, seeds[i % seeds.length]);
    const decoder = new MessageDecoder();
    try {
      let offset = 0;
      // Random chunk sizes, as TCP would cut them.
      for (let guard = 0; offset < bytes.length && !decoder.complete && guard < bytes.length + 1; guard++) {
        const size = 1 + random.below(64);
        offset += decoder.feed(bytes.subarray(offset, offset + size));
      }
      decoder.finish();
      decoded++;
    } catch (error) {
      if (!(error instanceof IppError)) t.fail(`mutation ${i} threw ${String(error)}`);
      refusedCount++;
    }
  }
  t.is(decoded + refusedCount, 5000);
  // Both outcomes happen: the mutations are neither all harmless nor all fatal.
  t.true(decoded > 100, `decoded ${decoded}`);
  t.true(refusedCount > 1000, `refused ${refusedCount}`);
});
