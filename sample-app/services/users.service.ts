import { Injectable } from '@nestjs/common';
import { Resilient } from '../../lib/index.js';
import { DownstreamService } from '../downstream/downstream.service.js';

/** The guide: user_service = ResilientService('user_api', tier='standard'). */
@Injectable()
export class UsersService {
  constructor(private readonly downstream: DownstreamService) {}

  @Resilient('user_api')
  async get(id: string): Promise<{ id: string; name: string }> {
    await this.downstream.call('user');
    return { id, name: `user ${id}` };
  }
}
