import type { SeededRandom } from "./seeded-random.js";

// Mutations a hostile or broken client might send.
export function mutate(random: SeededRandom, valid: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(valid);
  switch (random.below(6)) {
    case 0: { // bit flips
      const flips = 1 + random.below(4);
      for (let i = 0; i < flips; i++) bytes[random.below(bytes.length)] ^= 1 << random.below(8);
      return bytes;
    }
    case 1: // truncation
      return bytes.subarray(0, random.below(bytes.length));
    case 2: { // a length field inflated (any 16-bit pair past the head)
      const at = 8 + random.below(bytes.length - 9);
      bytes[at] = 0x7f;
      bytes[at + 1] = 0xff;
      return bytes;
    }
    case 3: { // a random byte overwritten with a tag
      const tags = [0x01, 0x02, 0x03, 0x34, 0x37, 0x4a, 0x7f, 0x00, 0x21];
      bytes[8 + random.below(bytes.length - 8)] = tags[random.below(tags.length)];
      return bytes;
    }
    case 4: { // deep nesting spliced in
      const depth = 1 + random.below(40);
      const open = [0x34, 0, 1, 0x63, 0, 0];
      const member = [0x4a, 0, 0, 0, 1, 0x6d, 0x34, 0, 0, 0, 0];
      const nest = [...open, ...Array.from({ length: depth }, () => member).flat(), ...new Array(depth + 1).fill([0x37, 0, 0, 0, 0]).flat()];
      const at = 9;
      return Uint8Array.from([...bytes.subarray(0, at), ...nest, ...bytes.subarray(at)]);
    }
    default: { // garbage appended inside the attributes
      const at = 8 + random.below(bytes.length - 8);
      return Uint8Array.from([...bytes.subarray(0, at), ...random.bytes(1 + random.below(40)), ...bytes.subarray(at)]);
    }
  }
}


// Collections written item by item, so a test can send what the encoder
// never would: a member without a value, a value without a member name,
// collections left open or closed twice (RFC 8010 3.1.6).

type Token =
  | { kind: "begin"; name: string }
  | { kind: "member"; name: string }
  | { kind: "integer"; value: number }
  | { kind: "keyword"; value: string }
  | { kind: "end" };

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

function item(tag: number, itemName: string, value: number[]): number[] {
  const n = ascii(itemName);
  return [tag, n.length >> 8, n.length & 0xff, ...n, value.length >> 8, value.length & 0xff, ...value];
}

export function collectionItems(tokens: Token[]): number[] {
  return tokens.flatMap((t) => {
    switch (t.kind) {
      case "begin": return item(0x34, t.name, []);
      case "member": return item(0x4a, "", ascii(t.name));
      case "integer": return item(0x21, "", [t.value >>> 24, (t.value >> 16) & 0xff, (t.value >> 8) & 0xff, t.value & 0xff]);
      case "keyword": return item(0x44, "", ascii(t.value));
      case "end": return item(0x37, "", []);
    }
  });
}

// A request the encoder wrote (ending in its end-of-attributes tag) with a
// job group of raw items put before that tag.
export function withJobItems(encoded: Uint8Array, items: number[]): Uint8Array {
  return Uint8Array.from([...encoded.subarray(0, encoded.length - 1), 0x02, ...items, 0x03]);
}

// media-col { media-size { x-dimension <no value> y-dimension 29700 } }:
// the request that once went unanswered.
export function mediaColMemberWithoutValue(): number[] {
  return collectionItems([
    { kind: "begin", name: "media-col" },
    { kind: "member", name: "media-size" }, { kind: "begin", name: "" },
    { kind: "member", name: "x-dimension" },
    { kind: "member", name: "y-dimension" }, { kind: "integer", value: 29700 },
    { kind: "end" },
    { kind: "end" },
  ]);
}

const MEMBER_NAMES = ["media-size", "x-dimension", "y-dimension", "media-type", "media-source", "esc\x1b[2Jname", "nul\x00bel\x07", ""];

function collectionTokens(random: SeededRandom, depth: number): Token[] {
  const tokens: Token[] = [];
  const members = 1 + random.below(3);
  for (let i = 0; i < members; i++) {
    // An empty name would be its own breakage; the valid tree has none.
    tokens.push({ kind: "member", name: MEMBER_NAMES[random.below(MEMBER_NAMES.length - 1)] });
    const values = 1 + random.below(2);
    for (let v = 0; v < values; v++) {
      const pick = random.below(depth < 3 ? 3 : 2);
      if (pick === 0) tokens.push({ kind: "integer", value: random.below(40000) });
      else if (pick === 1) tokens.push({ kind: "keyword", value: "stationery" });
      else tokens.push({ kind: "begin", name: "" }, ...collectionTokens(random, depth + 1), { kind: "end" });
    }
  }
  return tokens;
}

// A media-col that is well formed but for one or two breakages of its
// members; every result is a request RFC 8010 does not allow.
export function brokenCollection(random: SeededRandom): { items: number[]; breakage: string } {
  const tokens: Token[] = [{ kind: "begin", name: "media-col" }, ...collectionTokens(random, 1), { kind: "end" }];
  const positions = (kinds: string[]) => tokens.flatMap((t, i) => (kinds.includes(t.kind) ? [i] : []));
  const breakages: string[] = [];
  const times = 1 + random.below(2);
  const used = new Set<number>();
  for (let n = 0; n < times; n++) {
    const kind = random.below(5);
    // An end dropped and an end added could balance into a valid request.
    if ((kind === 2 && used.has(3)) || (kind === 3 && used.has(2))) continue;
    used.add(kind);
    switch (kind) {
      case 0: { // a member name followed by another member name or the end
        const at = positions(["member", "end"]).filter((i) => i > 0);
        tokens.splice(at[random.below(at.length)], 0, { kind: "member", name: MEMBER_NAMES[random.below(MEMBER_NAMES.length)] });
        breakages.push("member without value");
        break;
      }
      case 1: { // a value with no member name before it
        const at = positions(["begin"]);
        tokens.splice(at[random.below(at.length)] + 1, 0, random.below(2) ? { kind: "integer", value: 1 } : { kind: "keyword", value: "main" });
        breakages.push("value without member name");
        break;
      }
      case 2: { // collections left open
        const ends = positions(["end"]);
        const drop = 1 + random.below(ends.length);
        for (let i = 0; i < drop; i++) {
          const now = positions(["end"]);
          tokens.splice(now[random.below(now.length)], 1);
        }
        breakages.push("collection ends missing");
        break;
      }
      case 3: { // an endCollection with no begCollection of its own
        tokens.splice(random.below(tokens.length + 1), 0, { kind: "end" });
        breakages.push("endCollection without begin");
        break;
      }
      default: { // the member name itself empty
        const at = positions(["member"]);
        tokens[at[random.below(at.length)]] = { kind: "member", name: "" };
        breakages.push("empty member name");
      }
    }
  }
  return { items: collectionItems(tokens), breakage: breakages.join(", ") };
}
