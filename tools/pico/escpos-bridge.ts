import type { EscPosDevice } from "../../hosts/node/escpos-device.js";

// The thermal printer on the emulated board's UART: the bytes the firmware
// sends go to the Node host's ESC/POS device simulator, and its status
// answers (DLE EOT) come back to the UART's receive side as bytes on the
// wire, one character time apart at the UART's baud rate.

export interface UartPort {
  onByte?: (value: number) => void;
  feedByte(value: number): void;
}

export interface BridgeClock {
  // Emulated nanoseconds.
  readonly nanos: number;
}

export class EscPosBridge {
  bytesToPrinter = 0;
  bytesFromPrinter = 0;
  private outgoing: number[] = [];
  // Answer bytes and the emulated time each is due on the receive pin.
  private answers: Array<{ byte: number; due: number }> = [];
  // The firmware's UART speed; 10 bits a character (8N1).
  baud = 9600;

  constructor(private readonly uart: UartPort, readonly device: EscPosDevice, private readonly clock: BridgeClock) {
    uart.onByte = (value) => {
      this.outgoing.push(value);
      this.bytesToPrinter++;
    };
    device.onAnswer((byte) => {
      const last = this.answers.length > 0 ? this.answers[this.answers.length - 1].due : this.clock.nanos;
      this.answers.push({ byte, due: Math.max(last, this.clock.nanos) + this.characterNanos() });
    });
  }

  characterNanos(): number {
    return Math.round((10 / this.baud) * 1e9);
  }

  // Hands what the firmware sent to the printer (in one piece: the simulator
  // parses commands across calls) and delivers the answers now due.
  service(): void {
    if (this.outgoing.length > 0) {
      const bytes = Uint8Array.from(this.outgoing);
      this.outgoing = [];
      this.device.receive(bytes);
    }
    const now = this.clock.nanos;
    while (this.answers.length > 0 && this.answers[0].due <= now) {
      this.uart.feedByte(this.answers.shift()!.byte);
      this.bytesFromPrinter++;
    }
  }

  // Emulated ns until the next answer is due, or undefined.
  get nextDue(): number | undefined {
    return this.answers.length > 0 ? this.answers[0].due : undefined;
  }
}
