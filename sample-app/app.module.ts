import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { ResilienceModule } from '../lib/index.js';
import { AdminController } from './admin/admin.controller.js';
import { loadYamlConfig } from './config/load-config.js';
import { ApiController } from './controllers/api.controller.js';
import { HealthController } from './controllers/health.controller.js';
import { DownstreamService } from './downstream/downstream.service.js';
import { AnalyticsService } from './services/analytics.service.js';
import { PaymentsService } from './services/payments.service.js';
import { UsersService } from './services/users.service.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => loadYamlConfig()] }),
    // No configuration: the module reads the `resilience` key of ConfigService. The operator's
    // console at /resilience takes the admin token (read at bootstrap: main.ts may make one).
    ResilienceModule.forRoot({ isGlobal: true, admin: { enabled: true, token: () => process.env.ADMIN_TOKEN } }),
    PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: false } }),
    TerminusModule,
  ],
  controllers: [ApiController, HealthController, AdminController],
  providers: [DownstreamService, PaymentsService, UsersService, AnalyticsService],
})
export class AppModule {}
