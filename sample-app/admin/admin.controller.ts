import { Body, Controller, Delete, Get, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { DeadLetterService } from '../../lib/index.js';
import { DownstreamService } from '../downstream/downstream.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** A small admin API over the dead-letter queues and the simulated downstream. */
@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(
    private readonly deadLetters: DeadLetterService,
    private readonly downstream: DownstreamService,
  ) {}

  @Put('downstream')
  setDownstream(@Body() body: { failureRate?: number; latencyMs?: number }) {
    return this.downstream.set(body ?? {});
  }

  @Get('dlq/:queue')
  async list(@Param('queue') queue: string, @Query('cursor') cursor?: string, @Query('limit') limit?: string) {
    const q = this.deadLetters.queue(queue);
    const page = await q.list({ cursor, limit: limit ? Number(limit) : 50 });
    return { queue, size: await q.size(), oldestAge: await q.oldestAge(), ...page };
  }

  @Post('dlq/:queue/replay')
  replay(@Param('queue') queue: string, @Body() body: { id?: string; limit?: number; ratePerSecond?: number }) {
    return this.deadLetters.replay(queue, {
      id: body?.id,
      limit: body?.limit,
      ratePerSecond: body?.ratePerSecond ?? 20,
    });
  }

  @Delete('dlq/:queue')
  async purge(@Param('queue') queue: string) {
    return { purged: await this.deadLetters.queue(queue).purge() };
  }
}
