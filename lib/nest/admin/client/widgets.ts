// DOM and SVG helpers of the console page's script: the files of this folder are compiled for browsers
// (tsconfig.client.json) and served as one script, in the order of CLIENT_PARTS
// (page/console-script.ts), inside one function scope.

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The element for `key`, made once with `build` and kept in its container's order. */
function keep(container: HTMLElement, key: string, build: () => HTMLElement): HTMLElement {
  let node = made.get(key);
  if (!node) {
    node = build();
    made.set(key, node);
    container.append(node);
  }
  return node;
}

function setText(node: Element | null, text: string): void {
  if (node && node.textContent !== text) node.textContent = text;
}

const SVG = 'http://www.w3.org/2000/svg';

/** A sparkline of a series (null: no sample), over the samples there are. */
function sparkline(svg: SVGSVGElement, values: (number | null)[], label: string): void {
  const points = values.flatMap((v, i) => (v === null ? [] : [[i, v] as const]));
  const max = Math.max(1, ...points.map(([, v]) => v));
  svg.setAttribute('viewBox', `0 0 ${Math.max(1, values.length - 1)} 28`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-label', label);
  const line = points.map(([x, v]) => `${x},${(26 - (v / max) * 24).toFixed(1)}`).join(' ');
  svg.innerHTML = `<polyline fill="none" stroke="#2454d6" stroke-width="1.5" vector-effect="non-scaling-stroke" points="${line}"/>`;
}

/** A breaker's states since the console started (ten minutes at most): a band per state, from its transitions. */
function timeline(svg: SVGSVGElement, breaker: Breaker, now: number, since: number): void {
  const start = Math.max(now - TIMELINE_MS, Math.min(since, now - 1));
  const colour: Record<State, string> = { closed: '#1f7a3f', open: '#b42318', half_open: '#a15c00' };
  const before = breaker.transitions.filter((t) => t.at <= start).pop();
  let state: State = before ? before.to : (breaker.transitions.find((t) => t.at > start)?.from ?? breaker.state);
  let from = start;
  let bands = '';
  for (const t of breaker.transitions.filter((t) => t.at > start)) {
    bands += `<rect x="${from - start}" width="${t.at - from}" height="28" fill="${colour[state]}"/>`;
    state = t.to;
    from = t.at;
  }
  bands += `<rect x="${from - start}" width="${Math.max(0, now - from)}" height="28" fill="${colour[state]}"/>`;
  svg.setAttribute('viewBox', `0 0 ${now - start} 28`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-label', `${breaker.name}: ${breaker.transitions.length} transitions recorded`);
  svg.innerHTML = bands;
}

const svgEl = () => document.createElementNS(SVG, 'svg') as SVGSVGElement;

function button(text: string, label: string, onClick: () => void, danger = false): HTMLButtonElement {
  const node = el('button', { type: 'button', 'aria-label': label }, text);
  if (danger) node.className = 'danger';
  node.addEventListener('click', onClick);
  return node;
}

/** Asks before an action; `extra` adds inputs (read by the caller once confirmed). */
function confirmAction(text: string, extra?: HTMLElement, ready?: () => boolean): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  setText(byId('confirm-text'), text);
  byId('confirm-extra').replaceChildren(...(extra ? [extra] : []));
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const cancel = byId<HTMLButtonElement>('confirm-cancel');
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      ok.onclick = cancel.onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    ok.onclick = () => (ready && !ready() ? undefined : done(true));
    cancel.onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
    (extra?.querySelector('input') ?? cancel).focus();
  });
}

function notice(text: string): void {
  setText(byId('notice'), text);
}

async function act(what: string, method: string, path: string, body?: unknown): Promise<void> {
  try {
    const result = await api(method, path, body);
    notice(`${what}: done${method === 'POST' && path.endsWith('/replay') ? ` ${JSON.stringify(result)}` : ''}`);
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin('The token was refused.');
    notice(`${what}: ${(error as Error).message}`);
  }
}
