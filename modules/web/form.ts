import type { HttpRequest } from "../http/request.js";
import { utf8Decode } from "../text/utf8.js";

// The pages' forms come back as application/x-www-form-urlencoded bodies:
// small, read whole within a limit, decoded without trusting anything in
// them (a bad escape or an over-long body is an error, never a crash).

export const MAX_FORM_BYTES = 2048;
const MAX_FIELDS = 16;

export type Form = Record<string, string>;

export class FormError extends Error {}

// Decodes percent escapes and "+" into UTF-8 text; malformed UTF-8 becomes U+FFFD.
function unescapeField(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) bytes.push(0x20);
    else if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new FormError("a % escape is malformed");
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else throw new FormError("a form field has a byte the encoding does not allow");
  }
  return utf8Decode(Uint8Array.from(bytes));
}

export function decodeForm(body: Uint8Array): Form {
  const form: Form = {};
  if (body.length === 0) return form;
  let text = "";
  for (let i = 0; i < body.length; i++) text += String.fromCharCode(body[i]);
  const pairs = text.split("&");
  if (pairs.length > MAX_FIELDS) throw new FormError(`more than ${MAX_FIELDS} form fields`);
  for (const pair of pairs) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = unescapeField(eq < 0 ? pair : pair.slice(0, eq));
    const value = unescapeField(eq < 0 ? "" : pair.slice(eq + 1));
    // The first of a repeated name counts, so a field cannot be overridden by appending.
    if (!(name in form)) form[name] = value;
  }
  return form;
}

// Reads the request's body as a form, or fails with what was wrong.
export function readForm(request: HttpRequest, maxBytes = MAX_FORM_BYTES): Promise<Form> {
  return new Promise((resolve, reject) => {
    const type = (request.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") return reject(new FormError("the form must be sent as application/x-www-form-urlencoded"));
    if (request.declaredLength !== undefined && request.declaredLength > maxBytes) return reject(new FormError(`the form is larger than ${maxBytes} bytes`));
    if (!request.hasBody) return resolve({});
    // Sized by Content-Length when there is one; a chunked form may take the whole limit.
    const buffer = new Uint8Array(request.declaredLength ?? maxBytes);
    let length = 0;
    let failed = false;
    request.readBody({
      data(chunk) {
        if (failed) return;
        if (length + chunk.length > maxBytes) {
          failed = true;
          reject(new FormError(`the form is larger than ${maxBytes} bytes`));
          return;
        }
        buffer.set(chunk, length);
        length += chunk.length;
      },
      end() {
        if (failed) return;
        try {
          resolve(decodeForm(buffer.subarray(0, length)));
        } catch (error) {
          reject(error);
        }
      },
      abort(reason) {
        if (!failed) reject(new FormError(reason));
        failed = true;
      },
    });
  });
}
