import {
  Body,
  Delete,
  Get,
  Header,
  HttpException,
  Injectable,
  Logger,
  Param,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ChaosExperiments } from '../chaos/chaos-experiments.js';
import { ConfigReloads } from '../reload/config-reloads.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { AdminAccess, AdminAuthGuard, type AdminRequest } from './admin-access.js';
import { asAdminError, auditedMutation, NO_STORE, objectBody } from './admin-answers.js';
import { AdminRequestError } from './admin-console.service.js';

/**
 * The console's operations beside its status: chaos experiments and configuration reloads
 * (same path, token or guard, and audit as the console's other mutating routes).
 */
@Injectable()
export class AdminOpsController {
  private readonly audit = new Logger('ResilienceAudit');

  constructor(
    private readonly chaos: ChaosExperiments,
    private readonly reloads: ConfigReloads,
    private readonly settings: ResilienceSettings,
  ) {}

  @Get('chaos')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  chaosList() {
    return { enabled: this.chaos.enabled, experiments: this.chaos.list() };
  }

  /**
   * Starts an experiment: `{ service, fault, error?, latency?, value?, rate, duration, arm?, per?,
   * route?, key? }`; answers it, with its id. On every replica when chaos runs fleet-wide.
   */
  @Post('chaos')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  startChaos(@Req() request: AdminRequest, @Body() body: unknown) {
    return this.mutation(request, `start chaos ${JSON.stringify(body)}`, () =>
      asAdminError(() => this.chaos.begin(objectBody(body), AdminAccess.who(request), 'body')),
    );
  }

  /** The kill switch: ends every experiment at once (on every replica when fleet-wide). */
  @Delete('chaos')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  stopAllChaos(@Req() request: AdminRequest) {
    return this.mutation(request, 'stop every chaos experiment', () =>
      asAdminError(async () => ({ stopped: await this.chaos.endAll() })),
    );
  }

  @Delete('chaos/:id')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  stopChaos(@Req() request: AdminRequest, @Param('id') id: string) {
    return this.mutation(request, `stop chaos experiment ${id}`, () =>
      asAdminError(async () => {
        if (!(await this.chaos.end(id)))
          throw new AdminRequestError(404, `no chaos experiment ${JSON.stringify(id)} is running`);
        return { stopped: 1 };
      }),
    );
  }

  /** The version in force and the last reloads (newest first). */
  @Get('config/reloads')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  reloadList() {
    return this.reloads.view();
  }

  /**
   * Reloads: `{ config }` applies that configuration, `{}` re-reads ConfigService; answers the
   * result (400 with every problem and its path when refused: nothing changed).
   */
  @Post('config/reload')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  reload(@Req() request: AdminRequest, @Body() body: unknown) {
    return this.mutation(request, 'reload the configuration', () => {
      const { config } = objectBody(body) as { config?: unknown };
      const result = this.settings.reload(config, config === undefined ? 'configService' : 'admin API');
      if (result.result === 'invalid')
        throw new HttpException(
          { statusCode: 400, message: 'the configuration was refused: nothing changed', ...result },
          400,
        );
      return result;
    });
  }

  private mutation<T>(request: AdminRequest, what: string, work: () => T | Promise<T>): Promise<T> {
    return auditedMutation(this.audit, request, what, work);
  }
}
