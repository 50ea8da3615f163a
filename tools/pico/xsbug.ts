// The firmware's side of its USB serial port. A debug build of Moddable talks
// the xsbug protocol there: "\r\n<?xs.MACHINE?>\r\n" before each XML message
// (<xsbug><login/>, <log>, <break>, <samples>...), and answers to it come
// back framed the same way. Outside a session (and in release builds) trace
// is plain text lines. This takes bytes in any split, gives whole events, and
// keeps at most a bounded amount of an unfinished message.

export type TraceEvent =
  | { kind: "login"; machine: string; name: string; value: string }
  | { kind: "log"; machine: string; text: string }
  | { kind: "break"; machine: string; message: string }
  | { kind: "samples"; machine: string; values: number[] }
  | { kind: "text"; text: string };

const MAX_PENDING = 64 * 1024;

export function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_all, name: string) => {
    if (name === "lt") return "<";
    if (name === "gt") return ">";
    if (name === "amp") return "&";
    if (name === "quot") return "\"";
    if (name === "apos") return "'";
    const code = name[1] === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd";
  });
}

function attribute(tag: string, name: string): string {
  const match = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
  return match ? unescapeXml(match[1]) : "";
}

export class TraceStream {
  private pending = "";
  private machine = "";
  // Bytes of the stream that broke a limit and were dropped.
  dropped = 0;

  constructor(private readonly onEvent: (event: TraceEvent) => void) {}

  push(bytes: Uint8Array): void {
    // Latin-1 in, so no byte is lost; UTF-8 in log text is decoded per message.
    for (let i = 0; i < bytes.length; i++) this.pending += String.fromCharCode(bytes[i]);
    this.parse();
    if (this.pending.length > MAX_PENDING) {
      this.dropped += this.pending.length;
      this.pending = "";
    }
  }

  private parse(): void {
    for (;;) {
      const pi = this.pending.indexOf("<?xs");
      const open = this.pending.indexOf("<xsbug>");
      // Plain text before any protocol: whole lines only.
      const firstProtocol = Math.min(pi < 0 ? Infinity : pi, open < 0 ? Infinity : open);
      const newline = this.pending.indexOf("\n");
      if (newline >= 0 && newline < firstProtocol) {
        const line = this.pending.slice(0, newline).replace(/\r$/, "");
        this.pending = this.pending.slice(newline + 1);
        if (line.length > 0) this.onEvent({ kind: "text", text: utf8(line) });
        continue;
      }
      if (pi >= 0 && pi === firstProtocol) {
        const end = this.pending.indexOf("?>", pi);
        if (end < 0) return;
        const body = this.pending.slice(pi + 4, end);
        if (body.startsWith(".")) this.machine = body.slice(1);
        this.pending = this.pending.slice(end + 2);
        continue;
      }
      if (open >= 0 && open === firstProtocol) {
        const close = this.pending.indexOf("</xsbug>", open);
        if (close < 0) return;
        const message = this.pending.slice(open + 7, close);
        this.pending = this.pending.slice(close + 8);
        this.message(message);
        continue;
      }
      return;
    }
  }

  private message(xml: string): void {
    const machine = this.machine;
    const login = /<login\b[^>]*>/.exec(xml);
    if (login) this.onEvent({ kind: "login", machine, name: attribute(login[0], "name"), value: attribute(login[0], "value") });
    for (const log of xml.matchAll(/<log\b[^>]*>([\s\S]*?)<\/log>/g)) this.onEvent({ kind: "log", machine, text: utf8(unescapeXml(log[1])) });
    const brk = /<break\b[^>]*>([\s\S]*?)<\/break>/.exec(xml);
    if (brk) this.onEvent({ kind: "break", machine, message: utf8(unescapeXml(brk[1])) });
    const samples = /<samples>([\s\S]*?)<\/samples>/.exec(xml);
    if (samples) this.onEvent({ kind: "samples", machine, values: samples[1].split(/[,;]/).map((v) => Number(v)) });
  }
}

// The text arrived as Latin-1 code units, one per byte.
function utf8(latin1: string): string {
  const bytes = Uint8Array.from(latin1, (c) => c.charCodeAt(0) & 0xff);
  return new TextDecoder().decode(bytes);
}

// A message to the machine, framed as xsbug frames it.
export function xsbugCommand(machine: string, xml: string): Uint8Array {
  const text = `\r\n<?xs.${machine}?>\r\n${xml}\r\n`;
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}
