import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { toMilliseconds } from '../../core/duration.js';
import { type ConfigAck, RedisConfigChannel } from '../../redis/config-channel.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_REDIS } from '../tokens.js';
import type { ReloadResult } from './reload-types.js';

/** The fleet's configuration as the console shows it: the current one and each replica's answer. */
export interface FleetConfigView {
  replica: string;
  current?: { id: string; origin: string; at: string };
  replicas: (ConfigAck & { lagging: boolean })[];
}

/** Only plain data travels: functions, classes and instances stay on the replica they were given to. */
function isPlainJson(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.values(value as object).every(isPlainJson);
}

/**
 * Reloads across a fleet, through Redis (`reload.fleet`, on by default with Redis): a reload
 * applied on one replica (admin API, watched file, code) is published; every replica applies it
 * (`source: 'fleet'`) and answers with its result and version, so the console shows replicas that
 * lag or refused. Announced on a channel, and read every `reload.syncInterval` (a replica that
 * missed the announcement catches up). Decided: a replica that starts runs its own configuration
 * (its deploy's) and shows as lagging until the next published reload.
 */
@Injectable()
export class FleetReloads implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly replica = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly channel?: RedisConfigChannel;
  private readonly logger = new Logger('Resilience');
  private readonly syncMs: number;
  private seen?: string;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly settings: ResilienceSettings,
    @Optional() @Inject(RESILIENCE_REDIS) redis?: Redis | Cluster | null,
  ) {
    const options = settings.config.reload ?? {};
    this.syncMs = toMilliseconds(options.syncInterval ?? 2, 'reload.syncInterval');
    if (!redis || options.fleet === false) return;
    this.channel = new RedisConfigChannel(redis, settings.config.redis?.keyPrefix);
    settings.onReload((result) => {
      if (result.source !== 'fleet' && result.result === 'applied') void this.publish(result);
    });
  }

  /** True when reloads travel to the fleet. */
  get enabled(): boolean {
    return this.channel !== undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const channel = this.channel;
    if (!channel) return;
    // What the fleet ran before this replica started is not applied here (decided: see above).
    this.seen = (await channel.current().catch(() => undefined))?.id;
    channel.listen(
      () => void this.sync(),
      () => void this.sync(),
    );
    this.timer = setInterval(() => void this.sync(), this.syncMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.channel?.close();
  }

  /** Applies the fleet's current configuration if it is one this replica has not handled yet. */
  async sync(): Promise<void> {
    const channel = this.channel;
    if (!channel) return;
    const current = await channel.current().catch(() => undefined);
    if (!current || current.id === this.seen) return;
    this.seen = current.id;
    if (current.origin === this.replica) return;
    const result = this.settings.reload(current.config, 'fleet');
    await channel
      .ack({
        replica: this.replica,
        id: current.id,
        result: result.result,
        version: result.version,
        at: new Date().toISOString(),
        ...(result.issues.length ? { issues: result.issues } : {}),
      })
      .catch(() => undefined);
  }

  /** The fleet's current configuration and every replica's answer to it (lagging: answered another one, or refused it). */
  async view(): Promise<FleetConfigView | undefined> {
    const channel = this.channel;
    if (!channel) return undefined;
    const [current, acks] = await Promise.all([channel.current(), channel.acks()]).catch(
      () => [undefined, []] as [undefined, ConfigAck[]],
    );
    return {
      replica: this.replica,
      ...(current ? { current: { id: current.id, origin: current.origin, at: current.at } } : {}),
      replicas: acks
        .map((ack) => ({ ...ack, lagging: ack.id !== current?.id || ack.result === 'invalid' }))
        .sort((a, b) => a.replica.localeCompare(b.replica)),
    };
  }

  private async publish(result: ReloadResult): Promise<void> {
    const channel = this.channel as RedisConfigChannel;
    const input = this.settings.lastAppliedInput;
    if (!isPlainJson(input)) {
      this.logger.warn(
        `configuration version ${result.version} holds functions or class instances: applied on this replica only (give them in code on every replica)`,
      );
      return;
    }
    const id = randomUUID();
    this.seen = id;
    const at = new Date().toISOString();
    try {
      await channel.publish({ id, origin: this.replica, at, config: input });
      await channel.ack({ replica: this.replica, id, result: 'applied', version: result.version, at });
    } catch (error) {
      this.logger.warn(
        `configuration version ${result.version} applied on this replica, not published to the fleet: Redis (${(error as Error).message})`,
      );
    }
  }
}
