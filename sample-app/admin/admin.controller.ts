import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { type DeadLetterQueue, DeadLetterService } from '../../lib/index.js';
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

  /** Only queues the app has: a name from the URL never creates one. */
  private existing(queue: string): DeadLetterQueue {
    const q = this.deadLetters.find(queue);
    if (!q) throw new NotFoundException(`no dead-letter queue ${JSON.stringify(queue)}`);
    return q;
  }

  @Get('dlq/:queue')
  async list(@Param('queue') queue: string, @Query('cursor') cursor?: string, @Query('limit') limit?: string) {
    const q = this.existing(queue);
    const page = await q.list({ cursor, limit: limit ? Number(limit) : 50 });
    return { queue, size: await q.size(), oldestAge: await q.oldestAge(), ...page };
  }

  @Post('dlq/:queue/replay')
  async replay(@Param('queue') queue: string, @Body() body: { id?: string; limit?: number; ratePerSecond?: number }) {
    this.existing(queue);
    try {
      return await this.deadLetters.replay(queue, {
        id: body?.id,
        limit: body?.limit,
        ratePerSecond: body?.ratePerSecond ?? 20,
      });
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  @Delete('dlq/:queue')
  async purge(@Param('queue') queue: string) {
    return { purged: await this.existing(queue).purge() };
  }
}
