import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { AnalyticsService } from '../services/analytics.service.js';
import { type Payment, PaymentsService } from '../services/payments.service.js';
import { UsersService } from '../services/users.service.js';

@Controller()
export class ApiController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly users: UsersService,
    private readonly analytics: AnalyticsService,
  ) {}

  @Get()
  hello(): { message: string } {
    return { message: 'Hello from the nest-resilience sample app' };
  }

  @Post('payments')
  pay(@Body() payment: Payment) {
    return this.payments.charge({ orderId: String(payment?.orderId ?? 'order'), amount: Number(payment?.amount ?? 0) });
  }

  @Get('users/:id')
  user(@Param('id') id: string) {
    return this.users.get(id);
  }

  @Post('analytics/events')
  async track(@Body() event: { name?: string }) {
    return (await this.analytics.track({ name: String(event?.name ?? 'event') })) ?? { tracked: null };
  }
}
