import Serial from "embedded:io/serial";
import type { SerialEvents, SerialPort } from "../../modules/hal/serial.js";

// The UART to the thermal printer, on ECMA-419 serial. The SDK refuses a
// write larger than the room it reports, so bytes are queued here (bounded by
// the driver's own backpressure) and fed in as onWritable says there is room.

export interface UartPins {
  receive: number;
  transmit: number;
  baud: number;
  port: number;
}

// The driver is told to wait above this many queued bytes.
const HIGH_WATER = 2048;

export class ModdableSerial implements SerialPort {
  private readonly serial: Serial;
  private events: SerialEvents | undefined;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private room = 0;
  private wantWritable = false;
  private flushes: Array<() => void> = [];

  constructor(pins: UartPins) {
    const self = this;
    this.serial = new Serial({
      receive: pins.receive,
      transmit: pins.transmit,
      baud: pins.baud,
      port: pins.port,
      format: "buffer",
      onReadable() {
        const bytes = self.serial.read();
        if (bytes instanceof ArrayBuffer) self.events?.data(new Uint8Array(bytes));
      },
      onWritable(count: number) {
        self.room = count;
        self.pump();
      },
    });
  }

  setEvents(events: SerialEvents): void {
    this.events = events;
  }

  write(bytes: Uint8Array): boolean {
    // A copy: the caller reuses its band buffer.
    this.queue.push(bytes.slice());
    this.queued += bytes.length;
    this.pump();
    if (this.queued < HIGH_WATER) return true;
    this.wantWritable = true;
    return false;
  }

  flush(done: () => void): void {
    if (this.queued === 0) done();
    else this.flushes.push(done);
  }

  private pump(): void {
    while (this.room > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      const n = Math.min(this.room, head.length);
      this.serial.write(n === head.length ? head : head.subarray(0, n));
      this.room -= n;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.wantWritable && this.queued < HIGH_WATER / 2) {
      this.wantWritable = false;
      this.events?.writable();
    }
    if (this.queued === 0) for (const done of this.flushes.splice(0)) done();
  }
}
