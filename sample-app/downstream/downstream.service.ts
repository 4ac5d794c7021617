import { Injectable } from '@nestjs/common';

/** A simulated unreliable dependency: failure rate (0 to 1) and latency change at runtime. */
@Injectable()
export class DownstreamService {
  failureRate = Number(process.env.DOWNSTREAM_FAILURE_RATE ?? 0);
  latencyMs = Number(process.env.DOWNSTREAM_LATENCY_MS ?? 5);
  readonly calls: Record<string, number> = {};

  set(settings: { failureRate?: number; latencyMs?: number }): { failureRate: number; latencyMs: number } {
    if (settings.failureRate !== undefined) {
      if (!(settings.failureRate >= 0 && settings.failureRate <= 1))
        throw new RangeError('failureRate must be from 0 to 1');
      this.failureRate = settings.failureRate;
    }
    if (settings.latencyMs !== undefined) {
      if (!(settings.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');
      this.latencyMs = settings.latencyMs;
    }
    return { failureRate: this.failureRate, latencyMs: this.latencyMs };
  }

  async call(operation: string): Promise<void> {
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (Math.random() < this.failureRate) {
      throw Object.assign(new Error(`downstream ${operation} refused the connection`), { code: 'ECONNREFUSED' });
    }
  }
}
