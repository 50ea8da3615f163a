// Text that goes into a page: every name, description, job name and network
// name is user input, so all of it is escaped on the way out.

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" };

// Safe in element content and in a quoted attribute value.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// A link target a page may show: only http(s), so a claim URL from the
// service cannot become a javascript: link.
export function safeHref(url: string): string | undefined {
  return /^https?:\/\/[^\s"'<>]+$/i.test(url) ? escapeHtml(url) : undefined;
}

// A table lookup that only sees the table's own entries, so a key such as
// "__proto__" or "constructor" from a query string finds nothing.
export function lookup(table: Record<string, string>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}
