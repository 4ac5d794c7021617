import { applyDecorators, Header } from '@nestjs/common';

/**
 * The page allows only its own script and its inline styles, talks only to its own origin
 * and cannot be framed: a strict policy, whatever the app's own headers are.
 */
const POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HEADERS = applyDecorators(
  Header('Content-Security-Policy', POLICY),
  Header('X-Content-Type-Options', 'nosniff'),
  Header('X-Frame-Options', 'DENY'),
  Header('Referrer-Policy', 'no-referrer'),
);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--muted:#5b6475;--line:#d9dee7;--closed:#1f7a3f;--open:#b42318;--half:#a15c00;--focus:#2454d6}
*{box-sizing:border-box}[hidden]{display:none!important}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;gap:1rem;padding:.8rem 1.2rem;background:#151a24;color:#fff}
header h1{font-size:1.1rem;margin:0}#connection{font-size:.85rem;color:#c9d1e0}
main{padding:1rem 1.2rem;display:grid;gap:1.2rem}h2{font-size:1rem;margin:0 0 .5rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:.8rem}
.tile{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--closed);border-radius:6px;padding:.7rem .8rem}
.tile[data-state=open]{border-left-color:var(--open)}.tile[data-state=half_open]{border-left-color:var(--half)}
.tile h3{font-size:.95rem;margin:0 0 .3rem;display:flex;justify-content:space-between;gap:.5rem;overflow-wrap:anywhere}
.state{font-size:.75rem;font-weight:700;padding:.1rem .45rem;border-radius:3px;color:#fff;background:var(--closed);white-space:nowrap}
[data-state=open] .state{background:var(--open)}[data-state=half_open] .state{background:var(--half)}
.meta{color:var(--muted);font-size:.8rem;margin:.15rem 0}.big{font-size:1.4rem;font-weight:600}
svg{display:block;width:100%;height:28px;margin:.35rem 0}
.actions{display:flex;flex-wrap:wrap;gap:.35rem;margin-top:.4rem}
button,input{font:inherit;font-size:.8rem}button{padding:.25rem .6rem;border:1px solid #9aa3b5;border-radius:4px;background:#fff;cursor:pointer}
button.danger{border-color:var(--open);color:var(--open)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line)}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:middle}th{font-size:.8rem;color:var(--muted)}
td svg{width:160px}input[type=number]{width:5rem}.empty{color:var(--muted)}
pre{background:var(--card);border:1px solid var(--line);padding:.6rem;overflow:auto;max-height:24rem;font-size:.75rem}
#login{max-width:24rem;margin:3rem auto;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:1rem;display:grid;gap:.5rem}
#login-error,#notice{color:var(--open);min-height:1.2em;margin:0}#notice{padding:0 1.2rem}
dialog{border:1px solid var(--line);border-radius:6px;max-width:28rem}dialog menu{display:flex;gap:.5rem;justify-content:flex-end;padding:0;margin:.8rem 0 0}
dialog label{display:grid;gap:.2rem;margin-top:.5rem}
`;

/**
 * The console's one page: markup and styles inline, its script next to it. Every URL is
 * relative to the page's own (`requestPath` is the path this process saw: behind a proxy that
 * strips a prefix, `/ops/resilience` arrives as `/resilience`, and an absolute URL built from
 * it would miss the prefix). `auth` 'token': the page asks for the token before its first request.
 */
export function consolePage(requestPath: string, auth: 'token' | 'guard'): string {
  // From `/x/resilience` the script is `resilience/console.js`; from `/x/resilience/`, `console.js`.
  const lastSegment = requestPath.replace(/\/+$/, '').split('/').pop() ?? '';
  const script = escapeHtml(requestPath.endsWith('/') || !lastSegment ? 'console.js' : `${lastSegment}/console.js`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<title>Resilience console</title>
<style>${STYLE}</style>
</head>
<body data-auth="${auth}">
<header><h1>Resilience console</h1><span id="connection" role="status" aria-live="polite">connecting</span></header>
<form id="login" hidden>
<label for="token">Admin token</label>
<input id="token" type="password" autocomplete="off" required>
<button type="submit">Connect</button>
<p id="login-error" role="alert"></p>
</form>
<p id="notice" role="status" aria-live="polite"></p>
<main id="main" hidden>
<p class="meta" id="config-version" role="status"></p>
<section aria-labelledby="h-breakers"><h2 id="h-breakers">Circuit breakers</h2>
<p class="meta">Timelines: since the console started, the last 10 minutes at most. Green closed, red open, amber half-open.</p><div id="breakers" class="tiles"></div></section>
<section aria-labelledby="h-limiters"><h2 id="h-limiters">Rate limiters</h2>
<table><thead><tr><th>Limiter</th><th>Policy</th><th>Allowed</th><th>Rejected</th><th>Rejected, last minute</th><th>Rejections (10 min)</th></tr></thead><tbody id="limiters"></tbody></table></section>
<section aria-labelledby="h-bulkheads"><h2 id="h-bulkheads">Bulkheads</h2>
<p class="meta">Limits read every 2 s, the last 10 minutes at most; an adaptive limit's last move and swing (more than half within a minute) with why.</p><div id="bulkheads" class="tiles"></div></section>
<section aria-labelledby="h-queues"><h2 id="h-queues">Dead-letter queues</h2>
<p class="meta">Sizes read every 2 s, the last 10 minutes at most.</p><div id="queues" class="tiles"></div></section>
<section aria-labelledby="h-rollouts"><h2 id="h-rollouts">Rollouts</h2>
<table><thead><tr><th>Service</th><th>Share</th><th>From</th><th>Set share</th></tr></thead><tbody id="rollouts"></tbody></table></section>
<section aria-labelledby="h-patterns"><h2 id="h-patterns">Timeouts, fallbacks, hedges, coalescing</h2>
<p class="meta">Outcomes since the application started, by service.</p>
<table><thead><tr><th>Service</th><th>Pattern</th><th>Outcomes</th></tr></thead><tbody id="patterns"></tbody></table></section>
<section aria-labelledby="h-chaos"><h2 id="h-chaos">Chaos experiments</h2>
<p class="meta" id="chaos-state"></p><p><button type="button" id="chaos-stop-all" class="danger" aria-label="Stop all chaos experiments">Stop all</button></p>
<table><thead><tr><th>Service</th><th>Fault</th><th>Rate</th><th>Scope</th><th>Ends</th><th>Started by</th><th>Stop</th></tr></thead><tbody id="chaos"></tbody></table></section>
<section aria-labelledby="h-config"><h2 id="h-config">Configuration</h2>
<details><summary>Resolved configuration (secrets redacted)</summary><pre id="config"></pre></details></section>
</main>
<dialog id="confirm" aria-labelledby="confirm-text">
<p id="confirm-text"></p><div id="confirm-extra"></div>
<menu><button type="button" id="confirm-cancel">Cancel</button><button type="button" id="confirm-ok">Confirm</button></menu>
</dialog>
<script src="${script}" defer></script>
</body>
</html>
`;
}
