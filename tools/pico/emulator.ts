import { ConsoleLogger, GPIOPinState, LogLevel, Simulator, USBCDC } from "rp2040js";
import { EscPosDevice } from "../../hosts/node/escpos-device.js";
import { EscPosBridge } from "./escpos-bridge.js";
import { FlashModel } from "./flash.js";
import { FLASH_BASE, PICO_FLASH_BYTES, loadSegments, type Segment } from "./image.js";
import { PcProfile } from "./symbols.js";
import { TraceStream, xsbugCommand, type TraceEvent } from "./xsbug.js";

// A Pico (W) in rp2040js with what this firmware talks to: the boot ROM (from
// a file the user brings), the image in flash, flash writes modelled for
// Preference, the USB serial port read as xsbug/trace output, the thermal
// printer's UART on the ESC/POS device simulator, and a marker pin whose
// edges are stamped with the core's cycle count (the bench frames each
// measured stretch with it). The Wi-Fi chip is not emulated.

export interface PicoOptions {
  bootrom: Uint8Array;
  segments: Segment[];
  // The UART the thermal printer is on (the manifest's pins: GP4/GP5 = UART1).
  printerUart?: number;
  headDots?: number;
  markerPin?: number;
  onEvent?: (event: TraceEvent) => void;
  // Sample the program counter every this many cycles while the marker is
  // high (one PcProfile per stretch, in profiles); 0 or absent: no sampling.
  sampleCycles?: number;
  // UART0 bytes (a build with stdio on the UART), line by line.
  onUartText?: (line: string) => void;
}

export interface MarkerEdge {
  high: boolean;
  cycles: number;
  nanos: number;
}

export class PicoEmulator {
  // Its clock and chip only: the run loop is ours (ROM hooks, the printer's UART).
  private readonly simulator = new Simulator();
  readonly clock = this.simulator.clock;
  readonly mcu = this.simulator.rp2040;
  readonly flash: FlashModel;
  readonly printer: EscPosDevice;
  readonly bridge: EscPosBridge;
  readonly trace: TraceStream;
  readonly edges: MarkerEdge[] = [];
  readonly events: TraceEvent[] = [];
  readonly profiles: PcProfile[] = [];
  private profile: PcProfile | undefined;
  private nextSample = Infinity;
  private readonly cdc: USBCDC;
  private readonly romHooks: Set<number>;
  private uartLine = "";
  private heldRead: { endpoint: number; size: number } | undefined;
  private readonly releaseRead: () => void;
  private stopRequested = false;

  constructor(private readonly options: PicoOptions) {
    const { mcu } = this;
    // rp2040js logs every USB transfer and SEV at its default level.
    mcu.logger = new ConsoleLogger(LogLevel.Error);
    if (options.bootrom.length !== 16 * 1024) throw new Error(`the RP2040 boot ROM is 16384 bytes, not ${options.bootrom.length}`);
    mcu.loadBootrom(new Uint32Array(options.bootrom.buffer.slice(options.bootrom.byteOffset, options.bootrom.byteOffset + options.bootrom.byteLength)));
    loadSegments(mcu.flash, options.segments);
    this.flash = new FlashModel(mcu.flash, PICO_FLASH_BYTES, options.bootrom);
    this.romHooks = new Set(this.flash.addresses);

    this.trace = new TraceStream((event) => this.traced(event));
    this.cdc = new USBCDC(mcu.usbCtrl);
    this.cdc.onSerialData = (bytes) => this.trace.push(bytes);
    // rp2040js's CDC host answers every OUT transfer at once, with zero bytes
    // when it has nothing to send; the firmware then re-arms at once, and the
    // USB interrupt takes most of the CPU (a storm a real host, which NAKs,
    // never causes). So a read waits here until there is something to send.
    const usb = mcu.usbCtrl;
    const answer = usb.onEndpointRead;
    usb.onEndpointRead = (endpoint, size) => {
      if (this.cdc.txFIFO.empty) this.heldRead = { endpoint, size };
      else answer?.call(usb, endpoint, size);
    };
    this.releaseRead = () => {
      const held = this.heldRead;
      if (!held || this.cdc.txFIFO.empty) return;
      this.heldRead = undefined;
      answer?.call(usb, held.endpoint, held.size);
    };

    mcu.uart[0].onByte = (value) => {
      if (value === 10) {
        options.onUartText?.(this.uartLine.replace(/\r$/, ""));
        this.uartLine = "";
      } else if (this.uartLine.length < 4096) this.uartLine += String.fromCharCode(value);
    };

    this.printer = new EscPosDevice(options.headDots ?? 384);
    const clock = this.clock;
    const uart = mcu.uart[options.printerUart ?? 1];
    this.bridge = new EscPosBridge(uart, this.printer, { get nanos() { return clock.nanos; } });
    uart.onBaudRateChange = (baud) => { if (baud > 0) this.bridge.baud = baud; };

    const pin = mcu.gpio[options.markerPin ?? 15];
    pin.addListener((state) => {
      if (state !== GPIOPinState.High && state !== GPIOPinState.Low) return;
      const high = state === GPIOPinState.High;
      this.edges.push({ high, cycles: mcu.core.cycles, nanos: clock.nanos });
      const every = options.sampleCycles ?? 0;
      if (every > 0 && high && !this.profile) {
        this.profile = new PcProfile();
        this.profiles.push(this.profile);
        this.nextSample = mcu.core.cycles + every;
      } else if (!high) {
        this.profile = undefined;
        this.nextSample = Infinity;
      }
    });

    // Start as the demos of rp2040js do: at the flash's second-stage loader.
    mcu.core.PC = FLASH_BASE;
  }

  get cycles(): number {
    return this.mcu.core.cycles;
  }

  // Cycles the core executed and the emulated time, as the firmware's clock sees it.
  get nanos(): number {
    return this.clock.nanos;
  }

  stop(): void {
    this.stopRequested = true;
  }

  private traced(event: TraceEvent): void {
    // A debug build waits a few seconds for xsbug to answer its login; any
    // command will do. A break (an exception, or `debugger`) waits for "go".
    if (event.kind === "login") this.send(xsbugCommand(event.machine, "<set-all-breakpoints></set-all-breakpoints>"));
    if (event.kind === "break") this.send(xsbugCommand(event.machine, "<go/>"));
    this.events.push(event);
    this.options.onEvent?.(event);
  }

  private send(bytes: Uint8Array): void {
    for (const b of bytes) this.cdc.sendSerialByte(b);
    this.releaseRead();
  }

  // Runs until until() says so, the emulated time passes limitNanos, or
  // stop(); yields to Node's event loop between slices. Resolves with why it ended.
  async run(until: () => boolean, limitNanos: number): Promise<"done" | "time" | "stopped"> {
    const { mcu, clock } = this;
    const core = mcu.core;
    this.stopRequested = false;
    for (;;) {
      for (let i = 0; i < 200_000; i++) {
        if (core.waiting) {
          const due = this.bridge.nextDue;
          // Asleep with no alarm and no answer due: nothing can wake it but us; step a millisecond.
          let step = Number.isFinite(clock.nanosToNextAlarm) ? clock.nanosToNextAlarm : 1e6;
          if (due !== undefined) step = Math.min(step, Math.max(0, due - clock.nanos));
          clock.tick(Math.max(step, 1000));
          this.bridge.service();
          continue;
        }
        const pc = core.PC;
        if (pc < 0x4000 && this.romHooks.has(pc)) {
          const r = core.registers;
          this.flash.call(pc, { args: [r[0], r[1], r[2], r[3]], read: (address) => mcu.readUint8(address) });
          core.BXWritePC(core.LR);
          continue;
        }
        const cycles = core.executeInstruction();
        clock.tick((cycles * 1e9) / mcu.clkSys);
        // The PC about to run after the boundary: what a sampling timer interrupt would see.
        if (core.cycles >= this.nextSample) {
          this.profile?.add(core.PC);
          this.nextSample += this.options.sampleCycles ?? Infinity;
        }
        if ((i & 1023) === 0) this.bridge.service();
      }
      this.bridge.service();
      if (until()) return "done";
      if (this.stopRequested) return "stopped";
      if (clock.nanos >= limitNanos) return "time";
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
