import { Controller, Get } from '@nestjs/common';
import { ResilienceSettings } from '../lib/index.js';

@Controller()
export class AppController {
  constructor(private readonly settings: ResilienceSettings) {}

  @Get()
  hello(): { message: string } {
    return { message: 'Hello from the nest-resilience sample app' };
  }

  @Get('health')
  health(): { status: string; environment?: string } {
    return { status: 'ok', environment: this.settings.environment };
  }

  /** The resolved settings of one configured service (tier + overrides + environment profile). */
  @Get('config/services')
  services(): Record<string, unknown> {
    return Object.fromEntries(
      this.settings.serviceNames().map((name) => {
        const { circuit, retry, rate, dlq, tier } = this.settings.resolve(name);
        return [name, { tier, circuit, retry, rate, dlq }];
      }),
    );
  }
}
