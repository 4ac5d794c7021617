import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ResilienceHealthIndicator } from '../../lib/index.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly resilience: ResilienceHealthIndicator,
  ) {}

  /** 503 while a critical breaker is open or a DLQ is at its threshold; 200 "degraded" while half-open. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.resilience.isHealthy('resilience')]);
  }
}
