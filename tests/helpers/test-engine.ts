import type { EngineEvents, EngineFault, EnginePage, PrintEngine } from "../../modules/hal/engine.js";
import { OFFICE_CAPABILITIES } from "../../modules/print/office-capabilities.js";

// An engine the test drives: it keeps what it prints (so pixels can be
// checked), can be told to be full until released, and can fault.
export class TestEngine implements PrintEngine {
  capabilities = OFFICE_CAPABILITIES;
  fault: EngineFault | undefined;
  faultDescription = "";
  pagesPrinted = 0;
  pages: Array<{ page: EnginePage; rows: Uint8Array[] }> = [];
  jobs: Array<{ id: string; aborted?: boolean }> = [];
  // Lines accepted before line() says full; Infinity never fills.
  capacity = Infinity;
  keepRows = true;
  linesTaken = 0;
  full = false;
  private taken = 0;
  private events: EngineEvents | undefined;

  setEvents(events: EngineEvents): void { this.events = events; }
  beginJob(id: string): void { this.jobs.push({ id }); this.pagesPrinted = 0; }
  beginPage(page: EnginePage): void { this.pages.push({ page, rows: [] }); }
  line(data: Uint8Array, repeat: number): boolean {
    const rows = this.pages.at(-1)!.rows;
    if (this.keepRows) for (let r = 0; r < repeat; r++) rows.push(Uint8Array.from(data));
    this.linesTaken += repeat;
    if (this.fault || ++this.taken >= this.capacity) { this.full = true; return false; }
    return true;
  }
  endPage(): void { this.pagesPrinted++; }
  endJob(aborted: boolean): void {
    this.jobs.at(-1)!.aborted = aborted;
    this.events?.jobFinished(this.pagesPrinted);
  }

  // Makes room: the decoder continues.
  release(): void {
    this.taken = 0;
    if (this.full && !this.fault) { this.full = false; this.events?.ready(); }
  }

  setFault(fault: EngineFault | undefined, description = ""): void {
    this.fault = fault;
    this.faultDescription = description;
    this.events?.statusChanged();
    if (!fault) this.release();
  }

  pixels(index: number): Uint8Array {
    const rows = this.pages[index].rows;
    const out = new Uint8Array(rows.reduce((n, r) => n + r.length, 0));
    let o = 0;
    for (const r of rows) { out.set(r, o); o += r.length; }
    return out;
  }
}
