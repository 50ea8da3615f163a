import type { Clock } from "../hal/clock.js";
import type { DocumentConsumer, DocumentSource } from "./source.js";

// A document already in memory (in flash on the board), handed over a
// segment at a time as a socket would, one event-loop turn per burst, and
// holding still while paused. The MCU bench prints its embedded pages
// through it, and the Node reference that its receipt is compared with
// prints the same pages through it too.
export class SegmentSource implements DocumentSource {
  readonly declaredLength: number;
  private consumer: DocumentConsumer | undefined;
  private offset = 0;
  private paused = false;
  private scheduled = false;

  constructor(private readonly bytes: Uint8Array, private readonly segment: number, private readonly clock: Clock) {
    this.declaredLength = bytes.length;
  }

  readBody(consumer: DocumentConsumer): void {
    this.consumer = consumer;
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.defer(() => this.pump());
  }

  private pump(): void {
    this.scheduled = false;
    const consumer = this.consumer;
    if (!consumer) return;
    while (!this.paused && this.offset < this.bytes.length) {
      const end = Math.min(this.offset + this.segment, this.bytes.length);
      const chunk = this.bytes.subarray(this.offset, end);
      this.offset = end;
      consumer.data(chunk);
    }
    if (!this.paused && this.offset >= this.bytes.length) {
      this.consumer = undefined;
      consumer.end();
    }
  }
}
