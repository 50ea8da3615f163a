import type { Clock } from "../../modules/hal/clock.js";
import type { Log } from "../../modules/hal/log.js";
import { ThermalEngine, type ThermalConfig } from "../../modules/escpos/thermal-engine.js";
import { ditherRow } from "./dither.js";
import { ModdableSerial, type UartPins } from "./serial.js";

// The thermal printer on the board's UART, as the manifest's
// config.privet.thermal describes it (pins per board: the ESP32's UART2 on
// 16/17, the Pico's UART1 on GP4/GP5). The app and the MCU bench both build
// their engine here, so the bench drives exactly what a job drives. Gray is
// dithered by the C twin of the driver's ditherRow (dither.c).

export interface ThermalSettings extends Partial<ThermalConfig> {
  uart: UartPins;
}

export function thermalEngine(settings: ThermalSettings, clock: Clock, log: Log): ThermalEngine {
  return new ThermalEngine(new ModdableSerial(settings.uart), clock, log, settings, ditherRow);
}
