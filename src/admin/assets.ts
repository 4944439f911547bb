// The admin page's style and script, served from the admin listener itself
// (`/admin.css`, `/admin.js`): no external asset, no inline code, so the
// page's CSP needs no 'unsafe-inline' and no hash. The script refreshes the
// page's <main> from `/?part=main` (HTML the server escaped) every two
// seconds; it never builds markup from data itself.

/** The page's Content-Security-Policy: same-origin script, style and fetch; nothing else. */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

export const PAGE_SCRIPT = `'use strict';
(function () {
  var busy = false;
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch('/?part=main', { cache: 'no-store', credentials: 'omit' })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.getElementById('main');
        var cur = document.getElementById('main');
        if (next && cur) cur.replaceWith(document.adoptNode(next));
        document.body.classList.remove('stale');
      })
      .catch(function () { document.body.classList.add('stale'); })
      .then(function () { busy = false; });
  }
  setInterval(refresh, 2000);
})();
`

export const PAGE_STYLE = `
:root { color-scheme: light dark; --a: #2563eb; --b: #dc2626; --ok: #15803d; --muted: #6b7280; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; }
body.stale main { opacity: .6; }
header { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: baseline; padding: .8rem 0; border-bottom: 1px solid #8884; }
h1 { font-size: 1.3rem; margin: 0 .5rem 0 0; }
h2 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.pill { padding: 0 .5rem; border-radius: 1rem; color: #fff; background: var(--muted); }
.pill.ok { background: var(--ok); } .pill.bad { background: var(--b); color: #fff; }
.bad { color: var(--b); } .muted { color: var(--muted); font-weight: normal; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; margin-top: 1rem; }
figure { margin: 0; } figcaption { margin-bottom: .3rem; }
figcaption span.a { color: var(--a); } figcaption span.b { color: var(--b); }
svg { width: 100%; height: 120px; border: 1px solid #8884; background: #8881; }
polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
polyline.a { stroke: var(--a); } polyline.b { stroke: var(--b); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .15rem .5rem; border-bottom: 1px solid #8883; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.path, span.path { font-family: ui-monospace, monospace; word-break: break-all; }
ol, ul { margin: .2rem 0; padding-left: 1.4rem; }
li.reload { margin-bottom: .4rem; }
`
