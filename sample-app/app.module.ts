import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ResilienceModule } from '../lib/index.js';
import { AppController } from './app.controller.js';
import { loadYamlConfig } from './config/load-config.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => loadYamlConfig()] }),
    // No options: the module reads the `resilience` key of ConfigService.
    ResilienceModule.forRoot({ isGlobal: true }),
  ],
  controllers: [AppController],
})
export class AppModule {}
