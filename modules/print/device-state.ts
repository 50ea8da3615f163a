import type { DeviceNotice, DeviceState } from "../device/state.js";
import type { PrintEngine } from "../hal/engine.js";
import type { JobLifecycle } from "./lifecycle.js";
import type { Spooler } from "./spooler.js";

// The device state follows the print path: the engine's fault, and whether
// the spooler holds a job, pushed at every lifecycle event and every engine
// status change, so no reader has to refresh it. notice: what else a person
// should know (the clock being set); returns the update, for whoever else
// moves the notice.
export function followPrintPath(state: DeviceState, path: { engine: PrintEngine; spooler: Spooler; lifecycle: JobLifecycle },
  notice: () => DeviceNotice | undefined = () => undefined): () => void {
  const { engine, spooler } = path;
  const update = () => state.update(engine.fault ? { code: engine.fault, description: engine.faultDescription } : undefined, spooler.active !== undefined, notice());
  spooler.onEngineStatus = update;
  path.lifecycle.listen(update);
  update();
  return update;
}
