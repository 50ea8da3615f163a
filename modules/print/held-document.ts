import type { Clock } from "../hal/clock.js";
import type { DocumentConsumer, DocumentSource } from "./source.js";

// A document kept in memory, read again as if it came from the network:
// the spooler prints a job's further copies from it through the same phases
// (pause when the engine is full, a turn of the event loop between chunks)
// as the first copy took.
export class HeldDocument implements DocumentSource {
  private consumer: DocumentConsumer | undefined;
  private next = 0;
  private paused = false;
  private scheduled = false;

  constructor(private readonly chunks: readonly Uint8Array[], readonly declaredLength: number, private readonly clock: Clock) {}

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

  // Deferred, never delivered from inside pause()/resume(): the spooler calls
  // those from its own consumer callbacks.
  private schedule(): void {
    if (this.scheduled || !this.consumer) return;
    this.scheduled = true;
    this.clock.defer(() => {
      this.scheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    while (!this.paused && this.next < this.chunks.length) consumer.data(this.chunks[this.next++]);
    if (!this.paused && this.next === this.chunks.length) {
      this.consumer = undefined;
      consumer.end();
    }
  }
}
