import {
  Body,
  Controller,
  type DynamicModule,
  type INestApplication,
  Injectable,
  type LoggerService,
  Module,
  Post,
} from '@nestjs/common';
import {
  ManualClock,
  RESILIENCE_CLOCK,
  type ResilienceAdminOptions,
  ResilienceModule,
  Resilient,
} from '../../lib/index.js';
import { type Platform, startHttpApp } from './http-apps.js';

export const ADMIN_TOKEN = 'a-token-of-24-characters';

/** A payments dependency the test turns off and on. */
export const gateway = { healthy: true, calls: 0 };

@Injectable()
export class Payments {
  @Resilient('payments')
  async charge(order: string, _customer?: string): Promise<string> {
    gateway.calls++;
    if (!gateway.healthy) throw new Error(`payments gateway refused order ${order}`);
    return `charged ${order}`;
  }
}

@Controller('orders')
export class OrdersController {
  constructor(private readonly payments: Payments) {}

  @Post()
  pay(@Body() body: { order: string; customer?: string }) {
    return this.payments.charge(body.order, body.customer);
  }
}

/** Calls are counted per customer: the console must never show one. */
function perCustomer(context: { args: unknown[] }): string {
  return String(context.args[1] ?? 'anonymous');
}

/** The configuration the console shows: a breaker, a limiter, a queue and a rollout on `payments`. */
export const ADMIN_APP_CONFIG = {
  metrics: { enabled: false },
  trace: { file: '/dev/null', sampleRate: 0, salt: 'a-salt-nobody-may-read' },
  services: {
    payments: {
      tier: 'critical',
      circuit: { failureThreshold: 2, timeout: 30 },
      retry: { maxAttempts: 1 },
      rate: { rate: 3, per: 60, keyFunc: perCustomer },
      dlq: { rethrow: false, storageBackend: 'memory' as const },
      rollout: { percent: 0, retry: { maxAttempts: 1 } },
    },
  },
};

/** Lines the app logged (the audit lines among them). */
export class LogCapture implements LoggerService {
  readonly lines: { level: string; context?: string; message: string }[] = [];
  log = (message: unknown, context?: string) => this.push('log', message, context);
  warn = (message: unknown, context?: string) => this.push('warn', message, context);
  error = (message: unknown, context?: string) => this.push('error', message, context);
  private push(level: string, message: unknown, context?: string) {
    this.lines.push({ level, context, message: String(message) });
  }
  audit() {
    return this.lines
      .filter((l) => l.context === 'ResilienceAudit')
      .map((l) => ({ level: l.level, ...(JSON.parse(l.message) as { who: string; what: string; outcome: string }) }));
  }
}

/** A Nest app with the console at `admin.path`, on a real port; time is a ManualClock. */
export async function startAdminApp(
  platform: Platform,
  admin: ResilienceAdminOptions = { enabled: true, path: '/ops/resilience', token: ADMIN_TOKEN },
  extra: {
    imports?: DynamicModule['imports'];
    providers?: DynamicModule['providers'];
    /** Settings of the app before it listens (CORS, a prefix). */
    beforeListen?: (app: INestApplication) => void;
  } = {},
) {
  @Module({
    imports: [ResilienceModule.forRoot({ ...ADMIN_APP_CONFIG, admin }), ...(extra.imports ?? [])],
    controllers: [OrdersController],
    providers: [Payments, ...(extra.providers ?? [])],
  })
  class AdminTestModule {}

  const clock = new ManualClock(Date.now());
  const started = await startHttpApp(
    AdminTestModule,
    platform,
    (builder) => {
      builder.overrideProvider(RESILIENCE_CLOCK).useValue(clock);
    },
    '127.0.0.1',
    extra.beforeListen,
  );
  const logs = new LogCapture();
  started.app.useLogger(logs);
  const pay = (order: string, customer = 'customer-7f3a9') =>
    fetch(`${started.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order, customer }),
    });
  return { ...started, clock, logs, pay };
}
