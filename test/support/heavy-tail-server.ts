import { createServer, type Server } from 'node:http';

/** A dependency on a free loopback port whose answers take `fastMs`, and every `slowEvery`-th `slowMs`. */
export interface HeavyTailServer {
  readonly url: string;
  /** Requests received. */
  readonly requests: number;
  /** Requests whose client went away before the answer (an aborted hedge). */
  readonly abandoned: number;
  /** Changes the latencies of the requests that arrive from now on. */
  set(latency: { fastMs: number; slowMs: number; slowEvery: number }): void;
  close(): Promise<void>;
}

export async function startHeavyTailServer(latency: {
  fastMs: number;
  slowMs: number;
  slowEvery: number;
}): Promise<HeavyTailServer> {
  let current = latency;
  let requests = 0;
  let abandoned = 0;
  const server: Server = createServer((_request, response) => {
    requests++;
    const delay = requests % current.slowEvery === 0 ? current.slowMs : current.fastMs;
    const timer = setTimeout(() => response.end('ok'), delay);
    response.on('close', () => {
      if (!response.writableFinished) {
        abandoned++;
        clearTimeout(timer);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    get requests() {
      return requests;
    },
    get abandoned() {
      return abandoned;
    },
    set(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs `calls` calls of `call`, `concurrency` at a time; returns each call's latency in ms. */
export async function timedCalls(call: () => Promise<unknown>, calls: number, concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  let started = 0;
  const worker = async () => {
    while (started < calls) {
      started++;
      const at = performance.now();
      await call();
      latencies.push(performance.now() - at);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}
