import type { Cluster, Redis } from 'ioredis';

/** A configuration published to the fleet: its id, where it came from, and the configuration (JSON). */
export interface PublishedConfig {
  id: string;
  origin: string;
  at: string;
  config: unknown;
}

/** A replica's answer to a published configuration. */
export interface ConfigAck {
  replica: string;
  id: string;
  result: 'applied' | 'unchanged' | 'invalid';
  version: number;
  at: string;
  issues?: { path: string; message: string }[];
}

/**
 * The fleet's configuration in Redis: the current one under one key (a replica that missed the
 * message reads it on its next sync), announced on a channel, and every replica's answer in a
 * hash. Every write is idempotent (a reply lost to a reset and the command sent again changes
 * nothing).
 */
export class RedisConfigChannel {
  private readonly currentKey: string;
  private readonly acksKey: string;
  readonly channel: string;
  private subscriber?: Redis | Cluster;

  constructor(
    private readonly client: Redis | Cluster,
    keyPrefix = 'nest-resilience',
  ) {
    this.currentKey = `${keyPrefix}:config:current`;
    this.acksKey = `${keyPrefix}:config:acks`;
    this.channel = `${keyPrefix}:config`;
  }

  async publish(config: PublishedConfig): Promise<void> {
    await this.client.set(this.currentKey, JSON.stringify(config));
    await this.client.publish(this.channel, config.id);
  }

  async current(): Promise<PublishedConfig | undefined> {
    const text = await this.client.get(this.currentKey);
    if (!text) return undefined;
    try {
      const parsed = JSON.parse(text) as PublishedConfig;
      return typeof parsed?.id === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async ack(ack: ConfigAck): Promise<void> {
    await this.client.hset(this.acksKey, ack.replica, JSON.stringify(ack));
  }

  async acks(): Promise<ConfigAck[]> {
    const entries = await this.client.hgetall(this.acksKey);
    const acks: ConfigAck[] = [];
    for (const json of Object.values(entries)) {
      try {
        acks.push(JSON.parse(json) as ConfigAck);
      } catch {
        // A damaged answer: that replica answers again at its next configuration.
      }
    }
    return acks;
  }

  /** Calls `onAnnounced` with each announced id (a shortcut: replicas also read `current` on a timer). */
  listen(onAnnounced: (id: string) => void, onReady: () => void): void {
    if (this.subscriber) return;
    const subscriber = (this.client as Redis).duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel: string, id: string) => onAnnounced(id));
    // Subscribed once connected, again after a reconnect; then a read for what was missed meanwhile.
    subscriber.on('ready', () =>
      subscriber.subscribe(this.channel).then(
        () => onReady(),
        () => {},
      ),
    );
  }

  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}
