import test from "ava";
import { XmlError, XmlTokenizer, type XmlHandler, type XmlLimits } from "../modules/text/xml.js";
import { SeededRandom } from "./helpers/seeded-random.js";

// The streaming tokenizer: tokens as a flat list, so that whole, byte by
// byte and randomly split inputs can be compared exactly, errors included.

type Token = (string | number | boolean | Record<string, string>)[];

function recorder(): { handler: XmlHandler; tokens: Token[] } {
  const tokens: Token[] = [];
  return {
    tokens,
    handler: {
      startElement: (name, attributes, selfClosing, depth) => tokens.push(["start", name, { ...attributes }, selfClosing, depth]),
      endElement: (name, depth) => tokens.push(["end", name, depth]),
      text: (text, depth) => tokens.push(["text", text, depth]),
    },
  };
}

const encode = (text: string) => new TextEncoder().encode(text);

// Feeds the pieces; the outcome is the tokens and the error (code and offset), if any.
function run(pieces: Uint8Array[], limits: Partial<XmlLimits> = {}): { tokens: Token[]; error?: string } {
  const { handler, tokens } = recorder();
  const tokenizer = new XmlTokenizer(handler, limits);
  try {
    for (const piece of pieces) tokenizer.write(piece);
  } catch (error) {
    if (!(error instanceof XmlError)) throw error;
    return { tokens, error: `${error.code}@${error.offset}` };
  }
  return { tokens };
}

function whole(input: string | Uint8Array, limits: Partial<XmlLimits> = {}) {
  return run([typeof input === "string" ? encode(input) : input], limits);
}

function byteByByte(input: Uint8Array, limits: Partial<XmlLimits> = {}) {
  return run(Array.from(input, (b) => Uint8Array.of(b)), limits);
}

function randomSplit(input: Uint8Array, random: SeededRandom, limits: Partial<XmlLimits> = {}) {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < input.length;) {
    const size = random.below(Math.min(40, input.length - at) + 1);
    pieces.push(input.subarray(at, at + size));
    at += size;
  }
  return run(pieces, limits);
}

function errorOf(input: string, limits: Partial<XmlLimits> = {}): string {
  const { handler } = recorder();
  const tokenizer = new XmlTokenizer(handler, limits);
  try {
    tokenizer.write(encode(input));
  } catch (error) {
    if (error instanceof XmlError) return error.code;
    throw error;
  }
  return "none";
}

const STREAM = `<?xml version='1.0'?><stream:stream from="gmail.com" id='5A1' version="1.0" xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client">`
  + `<stream:features><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism><mechanism>X-OAUTH2</mechanism></mechanisms></stream:features>`
  + `<message from="cloudprint.google.com" to="r@x/abc"><push:push channel="cloudprint.google.com" xmlns:push="google:push">`
  + `<push:recipient to="r@x">aGk=</push:recipient><push:data>cHJpbnRlci0x</push:data></push:push></message>`
  + ` <iq type="result" id="3"/>\n`;

test("an XMPP stream: declaration skipped, prefixed names as written, self-closing as start and end, the root left open", (t) => {
  const { tokens, error } = whole(STREAM);
  t.is(error, undefined);
  t.deepEqual(tokens.slice(0, 4), [
    ["start", "stream:stream", { from: "gmail.com", id: "5A1", version: "1.0", "xmlns:stream": "http://etherx.jabber.org/streams", xmlns: "jabber:client" }, false, 1],
    ["start", "stream:features", {}, false, 2],
    ["start", "mechanisms", { xmlns: "urn:ietf:params:xml:ns:xmpp-sasl" }, false, 3],
    ["start", "mechanism", {}, false, 4],
  ]);
  t.deepEqual(tokens.filter((x) => x[0] === "text").map((x) => x[1]), ["PLAIN", "X-OAUTH2", "aGk=", "cHJpbnRlci0x", " "]);
  t.deepEqual(tokens.slice(-2), [["start", "iq", { type: "result", id: "3" }, true, 2], ["end", "iq", 2]]);
});

test("any chunking gives the same tokens: byte by byte and 300 random splits", (t) => {
  const input = encode(STREAM + `<a x="&lt;&#x1F600;&amp;">é&#233;<![CDATA[<]]]>&gt;<!-- note --></a>`);
  const expected = whole(input);
  t.deepEqual(byteByByte(input), expected);
  const random = new SeededRandom(7);
  for (let i = 0; i < 300; i++) t.deepEqual(randomSplit(input, random), expected);
});

test("the five entities and character references, in text and in attribute values", (t) => {
  const { tokens } = whole(`<r a="&lt;&gt;&amp;&quot;&apos;&#65;&#x42;" b='tab\tnl\nend'>&lt;&gt;&amp;&quot;&apos;&#x1F600;&#233;</r>`);
  t.deepEqual(tokens[0], ["start", "r", { a: "<>&\"'AB", b: "tab nl end" }, false, 1]);
  t.deepEqual(tokens[1], ["text", "<>&\"'😀é", 1]);
});

test("CDATA joins the text around it; comments are skipped; a multi-byte character split across chunks survives", (t) => {
  t.deepEqual(whole(`<r>a<![CDATA[<b>&amp;]]]>z<!-- x - y -->c</r>`).tokens, [["start", "r", {}, false, 1], ["text", "a<b>&amp;]zc", 1], ["end", "r", 1]]);
  const bytes = encode("<r>😀</r>");
  t.deepEqual(run([bytes.subarray(0, 5), bytes.subarray(5)]).tokens[1], ["text", "😀", 1]);
});

test("hostile and malformed input is refused with its own code", (t) => {
  const cases: Array<[string, string, Partial<XmlLimits>?]> = [
    [`<!DOCTYPE lolz [<!ENTITY lol "lol">]><lolz>&lol;</lolz>`, "doctype"],
    [`<r><!DOCTYPE x></r>`, "doctype"],
    [`<?php echo 1 ?><r/>`, "processing-instruction"],
    [`<r><?xml version="1.0"?></r>`, "processing-instruction"],
    [`<?xml-stylesheet href="a"?>`, "processing-instruction"],
    [`<r>&lol;</r>`, "entity"],
    [`<r a="&nbsp;"/>`, "entity"],
    [`<r>&#0;</r>`, "entity"],
    [`<r>&#xD800;</r>`, "entity"],
    [`<r>&#x110000;</r>`, "entity"],
    [`<r>&#99999999999;</r>`, "entity"],
    [`<r>& x</r>`, "entity"],
    [`<r>\u0001</r>`, "character"],
    [`<r a="\u0000"/>`, "character"],
    [`<${"n".repeat(200)}/>`, "name-too-long"],
    [`<r ${"a".repeat(200)}="1"/>`, "name-too-long"],
    [`<r>${"x".repeat(5000)}</r>`, "token-too-long"],
    [`<r a="${"x".repeat(5000)}"/>`, "token-too-long"],
    [`<r><!-- ${"x".repeat(5000)} --></r>`, "token-too-long"],
    [`<r ${Array.from({ length: 17 }, (_, i) => `a${i}="1"`).join(" ")}/>`, "too-many-attributes"],
    [`<r a="1" a='2'/>`, "duplicate-attribute"],
    ["<a>".repeat(17), "too-deep"],
    [`<a><b></a>`, "mismatched-tag"],
    [`</a>`, "mismatched-tag"],
    [`hello<r/>`, "text-outside-root"],
    [`<r/>x`, "text-outside-root"],
    [`<![CDATA[x]]>`, "text-outside-root"],
    [`<r a=1/>`, "syntax"],
    [`<r a="1"b="2"/>`, "syntax"],
    [`<r a/>`, "syntax"],
    [`< r/>`, "syntax"],
    [`<r/ >`, "syntax"],
    [`<r><!x></r>`, "syntax"],
    [`<r><!-- a -- b --></r>`, "syntax"],
    [`<r a="<"/>`, "syntax"],
    [`<r></ r>`, "syntax"],
    [`<r></r x>`, "syntax"],
  ];
  for (const [input, code, limits] of cases) t.is(errorOf(input, limits), code, input.slice(0, 60));
});

test("limits are configurable; a failure is sticky until reset()", (t) => {
  t.is(errorOf(`<r>${"x".repeat(100)}</r>`, { maxTokenBytes: 64 }), "token-too-long");
  t.is(errorOf("<a><b><c>", { maxDepth: 2 }), "too-deep");
  t.is(errorOf(`<r a="1" b="2"/>`, { maxAttributes: 1 }), "too-many-attributes");
  t.throws(() => new XmlTokenizer(recorder().handler, { maxTokenBytes: 0 }), { instanceOf: RangeError });

  const { handler, tokens } = recorder();
  const tokenizer = new XmlTokenizer(handler);
  t.throws(() => tokenizer.write(encode("<r>&bad;")), { instanceOf: XmlError, message: /undefined entity &bad; \(at byte 7\)/ });
  t.throws(() => tokenizer.write(encode("</r>")), { instanceOf: XmlError, message: /undefined entity/ });
  tokenizer.reset();
  tokenizer.write(encode("<?xml version='1.0'?><s/>"));
  t.deepEqual(tokens.slice(-2), [["start", "s", {}, true, 1], ["end", "s", 1]]);
});

test("a handler may reset() mid-chunk (an XMPP stream restart): the rest of the chunk is a new document", (t) => {
  const tokens: string[] = [];
  const tokenizer: XmlTokenizer = new XmlTokenizer({
    startElement: (name, _a, _s, depth) => { tokens.push(`${name}@${depth}`); if (name === "success") tokenizer.reset(); },
    endElement: (name) => tokens.push(`/${name}`),
    text: () => {},
  });
  tokenizer.write(encode(`<stream:stream><success xmlns="sasl"/><?xml version="1.0"?><stream:stream><f/>`));
  t.deepEqual(tokens, ["stream:stream@1", "success@2", "stream:stream@1", "f@2", "/f"]);
  t.is(tokenizer.depth, 1);
});

test("whitespace keepalives cost nothing with skipWhitespaceText, however many arrive", (t) => {
  const { handler, tokens } = recorder();
  const tokenizer = new XmlTokenizer(handler, { skipWhitespaceText: true, maxTokenBytes: 64 });
  tokenizer.write(encode("<stream>"));
  for (let i = 0; i < 10_000; i++) tokenizer.write(encode(" "));
  tokenizer.write(encode("<iq/>\n \t<m>  body </m>"));
  t.deepEqual(tokens, [["start", "stream", {}, false, 1], ["start", "iq", {}, true, 2], ["end", "iq", 2], ["start", "m", {}, false, 2], ["text", "body ", 2], ["end", "m", 2]]);
  // Without the option the same keepalives are a text token that grows to its limit.
  t.is(errorOf("<stream>" + " ".repeat(100), { maxTokenBytes: 64 }), "token-too-long");
});

// Mutations that reach the interesting states: markup characters, the
// openers of every construct, entities, bytes that are not UTF-8.
const SPLICES = ["<", ">", "&", ";", "/", "=", "\"", "'", "]]>", "<![CDATA[", "<!--", "-->", "<?", "?>", "<!DOCTYPE", "&#x", "&amp;", "</", "/>", "\u0000", "\u00ff", "xmlns:a=\"b\"", "<a>", "</a>"];

function mutate(base: Uint8Array, random: SeededRandom): Uint8Array {
  const bytes = Array.from(base);
  const rounds = 1 + random.below(6);
  for (let r = 0; r < rounds; r++) {
    const at = random.below(bytes.length + 1);
    switch (random.below(5)) {
      case 0: if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = random.below(256); break;
      case 1: bytes.splice(at, 1 + random.below(8)); break;
      case 2: bytes.splice(at, 0, ...encode(SPLICES[random.below(SPLICES.length)])); break;
      case 3: { const from = random.below(bytes.length + 1); bytes.splice(at, 0, ...bytes.slice(from, from + random.below(30))); break; }
      case 4: bytes.splice(at, 0, ...Array.from({ length: random.below(4) + 1 }, () => random.below(128))); break;
    }
  }
  return Uint8Array.from(bytes);
}

test("fuzz: 5000 mutated streams; only XmlError escapes, and the outcome does not depend on the chunking", (t) => {
  const random = new SeededRandom(20261129);
  const corpus = [STREAM, `<r a="&lt;x&#65;"><![CDATA[c]]><!-- k --><b/>t&amp;</r>`, `<?xml version="1.0"?><a:b xmlns:a="u"><c d='e'>f</c></a:b>`].map(encode);
  const limits = { maxTokenBytes: 256, maxNameBytes: 32, maxAttributes: 4, maxDepth: 6 };
  const codes = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const input = mutate(corpus[i % corpus.length], random);
    const expected = whole(input, limits); // a non-XmlError would throw out of the test here
    if (expected.error) codes.add(expected.error.split("@")[0]);
    const split = i % 2 === 0 ? randomSplit(input, random, limits) : byteByByte(input, limits);
    t.deepEqual(split, expected, `input ${JSON.stringify(new TextDecoder().decode(input))}`);
  }
  // The mutations reach most of the refusals.
  t.true(codes.size >= 8, [...codes].join(","));
});
