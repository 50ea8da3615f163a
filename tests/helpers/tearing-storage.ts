import { MemoryStorage } from "../../hosts/node/hal.js";

// A flash that loses power in the middle of some writes: the slot keeps
// only a prefix of what was being written, or nothing at all.
export class TearingStorage extends MemoryStorage {
  tearNext: ((value: string) => string | undefined) | undefined;
  override write(key: string, value: string): void {
    const tear = this.tearNext;
    this.tearNext = undefined;
    if (!tear) return super.write(key, value);
    const left = tear(value);
    if (left === undefined) this.values.delete(key);
    else super.write(key, left);
    throw new Error("power lost");
  }
}
