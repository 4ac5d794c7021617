import { Injectable } from '@nestjs/common';
import { Resilient } from '../../lib/index.js';
import { DownstreamService } from '../downstream/downstream.service.js';

export interface Payment {
  orderId: string;
  amount: number;
}

/** The guide: payment_service = ResilientService('payment_gateway', tier='critical'). */
@Injectable()
export class PaymentsService {
  constructor(private readonly downstream: DownstreamService) {}

  @Resilient('payment_gateway')
  async charge(payment: Payment): Promise<{ charged: number; orderId: string }> {
    await this.downstream.call('charge');
    return { charged: payment.amount, orderId: payment.orderId };
  }
}
