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
    // No options: the module reads the `resilience` key of ConfigService.
    ResilienceModule.forRoot({ isGlobal: true }),
    PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: false } }),
    TerminusModule,
  ],
  controllers: [ApiController, HealthController, AdminController],
  providers: [DownstreamService, PaymentsService, UsersService, AnalyticsService],
})
export class AppModule {}
