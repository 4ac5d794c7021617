import { Injectable } from '@nestjs/common';
import { Resilient } from '../../lib/index.js';
import { DownstreamService } from '../downstream/downstream.service.js';

/** The guide: analytics_service = ResilientService('analytics', tier='non_critical'); failures are kept, not thrown. */
@Injectable()
export class AnalyticsService {
  constructor(private readonly downstream: DownstreamService) {}

  @Resilient('analytics')
  async track(event: { name: string }): Promise<{ tracked: string }> {
    await this.downstream.call('analytics');
    return { tracked: event.name };
  }
}
