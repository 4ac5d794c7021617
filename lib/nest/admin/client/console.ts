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

let streaming = false;

/** Reads the event stream (fetch, not EventSource: the token travels in a header, never in the URL). */
async function stream(): Promise<void> {
  if (streaming) return;
  streaming = true;
  try {
    const response = await fetch(`${base}/events`, { headers: headers(false) });
    if (response.status === 401) throw new Unauthorized();
    if (!response.ok || !response.body) throw new Error(`${response.status}`);
    byId('login').hidden = true;
    byId('main').hidden = false;
    setText(byId('connection'), 'live');
    void api('GET', '/config').then((config) => setText(byId('config'), JSON.stringify(config, null, 2)));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
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
        if (data) render(JSON.parse(data) as Status);
        end = buffer.indexOf('\n\n');
      }
    }
    throw new Error('stream ended');
  } catch (error) {
    streaming = false;
    if (error instanceof Unauthorized)
      return showLogin(sessionStorage.getItem(TOKEN_KEY) ? 'The token was refused.' : '');
    setText(byId('connection'), 'reconnecting');
    setTimeout(() => void stream(), 2000);
  }
}

byId<HTMLFormElement>('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, byId<HTMLInputElement>('token').value.trim());
  setText(byId('login-error'), '');
  void stream();
});

// With a token configured, ask for it first (a request bound to fail would only log a 401).
if (document.body.dataset.auth === 'token' && !sessionStorage.getItem(TOKEN_KEY)) showLogin('');
else void stream();
