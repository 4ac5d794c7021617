import { createServer, type Server } from 'node:http';

/** A dependency that never answers, on a free loopback port; it notes when each request's connection goes away. */
export interface HangingServer {
  readonly url: string;
  /** When each abandoned request's connection closed (Date.now()). */
  readonly closedAt: number[];
  close(): Promise<void>;
}

export async function startHangingServer(path = '/slow'): Promise<HangingServer> {
  const closedAt: number[] = [];
  const server: Server = createServer((request) => request.on('close', () => closedAt.push(Date.now())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}${path}`,
    closedAt,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Waits until `closedAt` holds `count` entries (or 2 s pass). */
export async function closedConnections(server: HangingServer, count: number): Promise<number> {
  const deadline = Date.now() + 2000;
  while (server.closedAt.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return server.closedAt.length;
}
