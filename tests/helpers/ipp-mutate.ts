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

