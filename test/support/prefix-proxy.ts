import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A reverse proxy as operators put one in front of an app: it serves the app under a prefix
 * of its own and strips it (`/ops/resilience` reaches the app as `/resilience`), streams the
 * answers (server-sent events too), and sets X-Forwarded-Host.
 */
export async function startPrefixProxy(
  prefix: string,
  targetPort: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    if (!path.startsWith(prefix)) {
      outgoing.statusCode = 404;
      outgoing.end('not proxied');
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: incoming.method,
        path: path.slice(prefix.length) || '/',
        headers: { ...incoming.headers, host: `127.0.0.1:${targetPort}`, 'x-forwarded-host': incoming.headers.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
