import { createServer, type Server, Socket } from 'node:net';

/**
 * A fault-injecting TCP proxy on loopback, between a client and a real server (Redis): the
 * ordinary weather of production, on demand. Faults:
 * - `latency(ms)` each way, `bandwidth(bytesPerSecond)` from the server;
 * - `partition()`: a blackhole (bytes are swallowed both ways, connections stay open, as a
 *   cut network looks to both ends); `heal()` ends it;
 * - `refuse(true)`: new connections are reset at once (the port answers, nobody serves);
 * - `resetAll()`: every open connection is reset (RST);
 * - `loseReplies(share, random)`: after a command reached the server, its reply is dropped and
 *   the client's connection reset: the command ran, the client never heard (a share of the
 *   server's reply chunks, drawn with `random`).
 * It counts what it did (`stats`).
 */
export class FaultProxy {
  readonly stats = { connections: 0, repliesLost: 0, resets: 0 };
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private latencyMs = 0;
  private bytesPerSecond = 0;
  private blackhole = false;
  private refusing = false;
  private loseShare = 0;
  private random: () => number = Math.random;
  private linkFreeAt = 0;
  private lossMatch?: RegExp;

  private constructor(
    private readonly targetPort: number,
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
    let proxy!: FaultProxy;
    const server = createServer((client) => proxy.accept(client, targetHost));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    proxy = new FaultProxy(targetPort, port, server);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  latency(ms: number): this {
    this.latencyMs = ms;
    return this;
  }

  bandwidth(bytesPerSecond: number): this {
    this.bytesPerSecond = bytesPerSecond;
    return this;
  }

  partition(): this {
    this.blackhole = true;
    return this;
  }

  heal(): this {
    this.blackhole = false;
    return this;
  }

  refuse(on: boolean): this {
    this.refusing = on;
    return this;
  }

  /** Loses a share of the replies to commands that match `commands` (default: all; e.g. /EVALSHA/ spares handshakes). */
  loseReplies(share: number, random: () => number = Math.random, commands?: RegExp): this {
    this.loseShare = share;
    this.random = random;
    this.lossMatch = commands;
    return this;
  }

  resetAll(): void {
    for (const pair of [...this.pairs]) this.reset(pair);
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetHost: string): void {
    this.stats.connections++;
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.connect(this.targetPort, targetHost);
    let lastCommand = '';
    client.on('data', (chunk) => {
      lastCommand = chunk.toString('latin1', 0, 256);
      this.forward(chunk, upstream);
    });
    upstream.on('data', (chunk) => {
      if (this.blackhole) return;
      const eligible = !this.lossMatch || this.lossMatch.test(lastCommand);
      if (this.loseShare > 0 && eligible && this.random() < this.loseShare) {
        // The command reached the server and ran; its reply never reaches the client.
        this.stats.repliesLost++;
        this.reset(pair);
        return;
      }
      this.deliver(chunk, client);
    });
  }

  private forward(chunk: Buffer, to: Socket): void {
    if (this.blackhole) return;
    const write = () => {
      if (!to.destroyed) to.write(chunk);
    };
    if (this.latencyMs > 0) setTimeout(write, this.latencyMs);
    else write();
  }

  /** Replies wait their latency, and behind each other at the bandwidth (a link serializes). */
  private deliver(chunk: Buffer, to: Socket): void {
    const now = performance.now();
    let at = now + this.latencyMs;
    if (this.bytesPerSecond > 0) {
      at = Math.max(at, this.linkFreeAt) + (chunk.length / this.bytesPerSecond) * 1000;
      this.linkFreeAt = at;
    }
    if (at > now) setTimeout(() => !to.destroyed && to.write(chunk), at - now);
    else to.write(chunk);
  }

  private reset(pair: { client: Socket; upstream: Socket }): void {
    this.stats.resets++;
    this.pairs.delete(pair);
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (!pair.upstream.destroyed) pair.upstream.destroy();
  }
}
