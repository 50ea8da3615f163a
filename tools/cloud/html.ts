// The pages' shared frame: one stylesheet inline (no external assets), escaping for
// everything that comes from a device or a user.

export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
:root { color-scheme: light; --ink: #202124; --muted: #5f6368; --line: #dadce0; --accent: #1a73e8; --warn: #c5221f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f8f9fa; }
header { display: flex; align-items: center; gap: 1rem; padding: .7rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 600; font-size: 1.05rem; }
header .who { margin-left: auto; color: var(--muted); display: flex; gap: .6rem; align-items: center; }
main { max-width: 860px; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.35rem; font-weight: 500; margin: 0 0 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
.card h2 { margin: 0 0 .3rem; font-size: 1.1rem; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .6rem 0; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
code { font: 13px ui-monospace, Menlo, Consolas, monospace; background: #f1f3f4; padding: 0 .25rem; border-radius: 3px; }
button, .button { font: inherit; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; padding: .35rem .9rem; cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--warn); border-color: var(--warn); }
input[type=email], input[type=text], input[type=number] { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; }
input[type=email] { width: 20rem; max-width: 100%; }
input[type=number] { width: 6rem; }
form.inline { display: inline; }
.row { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; margin-top: .7rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 10px; font-size: .8rem; font-weight: 600; background: #e8eaed; color: var(--muted); }
.badge.ONLINE { background: #e6f4ea; color: #137333; }
.badge.OFFLINE { background: #fce8e6; color: var(--warn); }
table.settings { border-collapse: collapse; margin: .4rem 0; }
table.settings th, table.settings td { text-align: left; padding: .2rem .8rem .2rem 0; border-bottom: 1px solid #f1f3f4; }
table.settings th { color: var(--muted); font-weight: 500; }
.pending { color: #b06000; font-weight: 600; }
.notice { padding: .6rem .9rem; border-radius: 6px; background: #e8f0fe; margin-bottom: 1rem; }
.error { padding: .6rem .9rem; border-radius: 6px; background: #fce8e6; color: var(--warn); margin-bottom: 1rem; }
.muted { color: var(--muted); }
`;

export function layout(title: string, body: string, user?: { email: string; csrf: string }): string {
  const who = user
    ? `<div class="who"><span>${esc(user.email)}</span><form class="inline" method="post" action="/signout"><input type="hidden" name="csrf" value="${esc(user.csrf)}"><button class="secondary" type="submit">Sign out</button></form></div>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Cloud Print emulator</title><style>${STYLE}</style></head>
<body><header><span class="brand">Cloud Print <span class="muted">emulator</span></span><a href="/cloudprint/printers">My printers</a>${who}</header>
<main>${body}</main></body></html>`;
}
