import type { DrainListener } from "../http/connection.js";
import type { HttpResponse, ResponseWriter } from "../http/response.js";
import { escapeHtml } from "./html.js";

// A page goes out section by section, each written into the response's
// small buffer and sent; when the socket is full the next section waits for
// it to drain. So a page costs one section's text at a time, on the board too.

// An object rather than a function: see pages.ts.
export interface Section {
  render(w: ResponseWriter): void;
}

// A section as the module function that writes it and that function's
// arguments: one class for every section, and no closure (which XS would
// make with a copy of its byte code in the heap for every page served).
export class WrittenSection<A, B, C> implements Section {
  constructor(
    private readonly write: (w: ResponseWriter, a: A, b: B, c: C) => void,
    private readonly a: A,
    private readonly b: B,
    private readonly c: C,
  ) {}

  render(w: ResponseWriter): void {
    this.write(w, this.a, this.b, this.c);
  }
}

// No script, no frame, no other site's anything; forms post only here.
export const PAGE_HEADERS: Array<[string, string]> = [
  ["Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"],
  ["X-Frame-Options", "DENY"],
  ["X-Content-Type-Options", "nosniff"],
  // Our own forms carry a Referer to us; a link to the cloud's claim page carries none.
  ["Referrer-Policy", "same-origin"],
];

const STYLE = `*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f3f5f8}
header{background:#1f3b63;color:#fff;padding:.7em 1em}header h1{font-size:1.15em;margin:0 0 .3em}
nav a{color:#d6e4ff;margin-right:1em;text-decoration:none;font-weight:600}nav a.here{color:#fff;border-bottom:2px solid #fff}
main{max-width:46em;margin:0 auto;padding:.6em}section{background:#fff;border-radius:8px;padding:.8em 1em;margin:.7em 0;box-shadow:0 1px 2px #0002}
h2{font-size:1.05em;margin:0 0 .5em}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1em;margin:0}dt{color:#5a6477}dd{margin:0;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse;font-size:.95em}th,td{text-align:left;padding:.3em .4em;border-bottom:1px solid #e3e7ee}th{color:#5a6477;font-weight:600}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;font-weight:600;font-size:.9em}.idle,.done,.online{background:#dff3e4;color:#1d6b34}
.processing,.in_progress,.queued,.draft,.connecting{background:#e2ecff;color:#1f4fa3}.stopped,.aborted,.offline{background:#fde5e3;color:#a2281b}.not-configured{background:#eceff3;color:#5a6477}
label{display:block;margin:.5em 0 .2em;font-weight:600}input[type=text],input[type=email],input[type=password]{width:100%;padding:.5em;font:inherit;border:1px solid #b9c2d0;border-radius:6px}
.check{display:flex;gap:.5em;align-items:center;font-weight:normal}button{font:inherit;font-weight:600;padding:.5em 1.1em;margin-top:.7em;border:0;border-radius:6px;background:#1f5fbf;color:#fff}
button.secondary{background:#e3e7ee;color:#1d2330}button.danger{background:#b3261e}.note{color:#5a6477;font-size:.92em}.error{background:#fde5e3;color:#8a1f15;padding:.5em .8em;border-radius:6px}
.notice{background:#dff3e4;color:#1d6b34;padding:.5em .8em;border-radius:6px}.net{display:flex;justify-content:space-between;gap:1em}`;

export interface PageOptions {
  title: string;
  printerName: string;
  // Which nav entry is this page ("/", "/settings", "/wifi").
  here: string;
  nav: Array<[string, string]>;
  refreshSeconds?: number;
  status?: number;
}

const PAGE_OPTIONS = { contentType: "text/html; charset=utf-8", headers: PAGE_HEADERS };

export function sendPage(response: HttpResponse, options: PageOptions, sections: Section[]): void {
  const w = response.stream(options.status ?? 200, PAGE_OPTIONS);
  if (!w) return;
  const sender = new PageSender(w, options, sections);
  // The sender itself hears of the drain: its pump is a method, whose byte
  // code stays in flash instead of being copied into the heap per page.
  w.onDrain(sender);
  sender.pump();
}

// Writes the page's head, its sections and its end, in that order. The
// head and end are steps of the sender rather than sections made per page.
class PageSender implements DrainListener {
  // 0 is the head, 1..sections.length the sections, then the end.
  private next = 0;
  private running = false;
  private again = false;

  constructor(private readonly w: ResponseWriter, private readonly options: PageOptions, private readonly sections: Section[]) {}

  drained(): void {
    this.pump();
  }

  // A host may report the drain from inside a write; then the loop already running goes on.
  pump(): void {
    const w = this.w;
    const last = this.sections.length + 1;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        while (this.next <= last && w.open) {
          try {
            this.step(this.next++);
          } catch {
            // The head is gone already: cut the connection rather than end a page with a hole in it.
            this.next = last + 2;
            w.abort();
            return;
          }
          w.flush();
          if (!w.ready) break;
        }
      } while (this.again && this.next <= last && w.ready);
      if (this.next === last + 1 && w.open) {
        this.next++;
        w.end();
      }
    } finally {
      this.running = false;
    }
  }

  private step(i: number): void {
    if (i === 0) pageHead(this.w, this.options);
    else if (i <= this.sections.length) this.sections[i - 1].render(this.w);
    else this.w.write("</main></body></html>\n");
  }
}

function pageHead(w: ResponseWriter, options: PageOptions): void {
  w.write(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  if (options.refreshSeconds) w.write(`<meta http-equiv="refresh" content="${options.refreshSeconds}">`);
  w.write(`<title>${escapeHtml(options.title)} - ${escapeHtml(options.printerName)}</title><style>${STYLE}</style></head><body>`);
  w.write(`<header><h1>${escapeHtml(options.printerName)}</h1><nav>`);
  for (const [href, label] of options.nav) w.write(`<a href="${href}"${href === options.here ? ` class="here"` : ""}>${escapeHtml(label)}</a>`);
  w.write(`</nav></header><main>`);
}
