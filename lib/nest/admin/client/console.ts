// The console page's script, compiled for browsers (tsconfig.client.json) with the other
// files of this folder and served by the module at `<admin.path>/console.js`. No framework, no dependency: the page must work with
// nothing but the app. Elements are created once per breaker, limiter, queue and rollout and
// updated in place, so focus and keyboard navigation survive the updates.

function showLogin(message: string): void {
  byId('main').hidden = true;
  byId('login').hidden = false;
  setText(byId('login-error'), message);
  setText(byId('connection'), 'not connected');
  byId('token').focus();
}

/** Other tabs of this console in this browser: the one that streams tells the others. */
const tabs = 'BroadcastChannel' in window ? new BroadcastChannel(`nest-resilience:${base}`) : undefined;
let signedIn = false;

function live(how: string): void {
  byId('login').hidden = true;
  byId('main').hidden = false;
  setText(byId('connection'), how);
}

/**
 * The tab that holds the stream lock reads the event stream (fetch, not EventSource: the
 * token travels in a header, never in the URL) and passes each status on to the other tabs.
 * One stream per browser, whatever the tabs: each held one of the browser's six HTTP/1.1
 * connections to the host, and a seventh tab (or the app's other pages) waited for good.
 * Resolves when the stream ends (the lock goes to another tab).
 */
async function stream(): Promise<void> {
  const response = await fetch(`${base}/events`, { headers: headers(false) });
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok || !response.body) throw new Error(`${response.status}`);
  live('live');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (data) {
        const status = JSON.parse(data) as Status;
        render(status);
        tabs?.postMessage(status);
      }
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Without Web Locks (a page not served over https or from localhost): short polls, no held connection. */
async function poll(): Promise<void> {
  for (;;) {
    render((await api('GET', '/status')) as Status);
    live('live (polling)');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function refused(error: unknown): boolean {
  if (!(error instanceof Unauthorized)) return false;
  signedIn = false;
  showLogin(
    sessionStorage.getItem(TOKEN_KEY)
      ? 'The token was refused. Check it was copied whole, with no space or line break inside.'
      : '',
  );
  return true;
}

/** Signs this tab in (its own token, checked with one short request), then takes its share of the updates. */
async function connect(): Promise<void> {
  try {
    render((await api('GET', '/status')) as Status);
  } catch (error) {
    if (refused(error)) return;
    setText(byId('connection'), 'reconnecting');
    setTimeout(() => void connect(), 2000);
    return;
  }
  signedIn = true;
  live(tabs ? 'live (another tab streams)' : 'live');
  void api('GET', '/config').then((config) => setText(byId('config'), JSON.stringify(config, null, 2)));
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) {
    poll().catch((error) => {
      if (!refused(error)) setTimeout(() => void connect(), 2000);
    });
    return;
  }
  // Waits while another tab streams; streams when it is this tab's turn, until the stream ends.
  for (;;) {
    try {
      await locks.request(`nest-resilience:${base}`, () => stream());
    } catch (error) {
      if (refused(error)) return;
    }
    if (!signedIn) return;
    setText(byId('connection'), 'reconnecting');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

if (tabs) {
  tabs.onmessage = (event: MessageEvent<Status>) => {
    if (signedIn) render(event.data);
  };
}

// The kill switch: every experiment of this replica, after a confirmation.
byId('chaos-stop-all').addEventListener('click', async () => {
  if (await confirmAction('Stop every chaos experiment of this application?')) {
    await act('stop all chaos experiments', 'DELETE', '/chaos');
  }
});

byId<HTMLFormElement>('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, byId<HTMLInputElement>('token').value.trim());
  setText(byId('login-error'), '');
  void connect();
});

// With a token configured, ask for it first (a request bound to fail would only log a 401).
if (document.body.dataset.auth === 'token' && !sessionStorage.getItem(TOKEN_KEY)) showLogin('');
else void connect();
