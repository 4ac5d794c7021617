import { Body, Controller, Put, UseGuards } from '@nestjs/common';
import { DownstreamService } from '../downstream/downstream.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/**
 * The simulated downstream's switch (an outage on demand). Everything resilience has
 * (breakers, limiters, dead letters, rollouts) is the module's console at /resilience.
 */
@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(private readonly downstream: DownstreamService) {}

  @Put('downstream')
  setDownstream(@Body() body: { failureRate?: number; latencyMs?: number }) {
    return this.downstream.set(body ?? {});
  }
}
