import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type Server as NetServer } from 'node:net';
import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { firstValueFrom } from 'rxjs';

/** Servers that fail in the ways dependencies fail: a closed port, a reset, a hang, a status. */
export interface FlakyServers {
  closedPort: number;
  resetPort: number;
  endPort: number;
  hangPort: number;
  statusPort: number;
  close(): Promise<void>;
}

const listen = (server: Server | NetServer) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

export async function startFlakyServers(): Promise<FlakyServers> {
  const probe = createServer();
  const closedPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  const reset = createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
  // Reads the request, then closes the connection without an answer.
  const end = createServer((socket) => socket.once('data', () => socket.end()));
  const hang = createHttpServer(() => undefined);
  const status = createHttpServer((request, response) => {
    response.statusCode = Number(request.url?.slice(1)) || 500;
    response.end('failed');
  });
  const [resetPort, endPort, hangPort, statusPort] = [
    await listen(reset),
    await listen(end),
    await listen(hang),
    await listen(status),
  ];
  return {
    closedPort,
    resetPort,
    endPort,
    hangPort,
    statusPort,
    async close() {
      hang.closeAllConnections();
      status.closeAllConnections();
      await Promise.all([reset, end, hang, status].map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

/** Runs `produce` and returns what it threw (fails if it did not throw). */
export async function thrown(produce: () => Promise<unknown>): Promise<unknown> {
  try {
    await produce();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** Every real error the classification table is tested with, by what produced it. */
export async function realErrors(s: FlakyServers): Promise<Record<string, unknown>> {
  const url = (port: number, path = '/') => `http://127.0.0.1:${port}${path}`;
  const cancelled = new AbortController();
  setTimeout(() => cancelled.abort(), 50);
  return {
    'fetch: connection refused': await thrown(() => fetch(url(s.closedPort))),
    'fetch: connection reset': await thrown(() => fetch(url(s.resetPort))),
    'fetch: connection closed with no answer': await thrown(() => fetch(url(s.endPort))),
    'fetch: AbortSignal.timeout()': await thrown(() => fetch(url(s.hangPort), { signal: AbortSignal.timeout(100) })),
    'fetch: cancelled by the caller': await thrown(() => fetch(url(s.hangPort), { signal: cancelled.signal })),
    'fetch: 503 response thrown': await thrown(async () => {
      const response = await fetch(url(s.statusPort, '/503'));
      await response.arrayBuffer();
      throw response;
    }),
    'axios: connection refused': await thrown(() => axios.get(url(s.closedPort))),
    'axios: connection reset': await thrown(() => axios.get(url(s.resetPort))),
    'axios: connection closed with no answer': await thrown(() => axios.get(url(s.endPort))),
    'axios: timeout': await thrown(() => axios.get(url(s.hangPort), { timeout: 100 })),
    'axios: timeout (clarifyTimeoutError)': await thrown(() =>
      axios.get(url(s.hangPort), { timeout: 100, transitional: { clarifyTimeoutError: true } }),
    ),
    '@nestjs/axios HttpService: timeout': await thrown(() =>
      firstValueFrom(new HttpService(axios.create()).get(url(s.hangPort), { timeout: 100 })),
    ),
    '@nestjs/axios HttpService: 503': await thrown(() =>
      firstValueFrom(new HttpService(axios.create()).get(url(s.statusPort, '/503'))),
    ),
    'axios: 500': await thrown(() => axios.get(url(s.statusPort, '/500'))),
    'axios: 503': await thrown(() => axios.get(url(s.statusPort, '/503'))),
    'axios: 404': await thrown(() => axios.get(url(s.statusPort, '/404'))),
    'axios: 400': await thrown(() => axios.get(url(s.statusPort, '/400'))),
    'axios: 408': await thrown(() => axios.get(url(s.statusPort, '/408'))),
    'axios: 429': await thrown(() => axios.get(url(s.statusPort, '/429'))),
    'net: connection refused': await thrown(
      () =>
        new Promise((_, reject) => {
          const socket = connect(s.closedPort, '127.0.0.1');
          socket.on('error', reject);
        }),
    ),
  };
}
