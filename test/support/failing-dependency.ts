import { createServer, type Server } from 'node:http';

/** A real HTTP dependency that always fails (500), noting when each request arrived. */
export async function failingDependency(): Promise<{ url: string; hits: number[]; close(): Promise<void> }> {
  const hits: number[] = [];
  const server: Server = createServer((_request, response) => {
    hits.push(Date.now());
    response.statusCode = 500;
    response.end('down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
