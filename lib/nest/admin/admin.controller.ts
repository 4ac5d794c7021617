import type { Socket } from 'node:net';
import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Injectable,
  Logger,
  type MessageEvent,
  Param,
  Post,
  Query,
  Req,
  Sse,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { finalize, interval, map, merge, Observable, startWith, takeUntil } from 'rxjs';
import { ResilienceSettings } from '../resilience-settings.js';
import { AdminAccess, AdminAuthGuard, type AdminRequest } from './admin-access.js';
import { answer, auditedMutation, NO_STORE, objectBody, shareOf } from './admin-answers.js';
import { AdminConsole, AdminRequestError, type BreakerAction } from './admin-console.service.js';
import { AdminOpsController } from './admin-ops.controller.js';
import { consolePage, PAGE_HEADERS } from './page/console-page.js';
import { consoleScript } from './page/console-script.js';

const BREAKER_ACTIONS: BreakerAction[] = ['force-open', 'force-close', 'reset'];

/**
 * One read at a time, and one more after it when asked meanwhile: a second breaker transition
 * during the read of the first is shown at once (exhaustMap dropped it, and the page showed
 * the stale state until the next second's tick).
 */
function readLatest<T>(read: () => Promise<T>) {
  return (ticks: Observable<unknown>) =>
    new Observable<T>((subscriber) => {
      let reading = false;
      let again = false;
      const next = (): void => {
        reading = true;
        again = false;
        read().then(
          (value) => {
            subscriber.next(value);
            reading = false;
            if (again) next();
          },
          (error: unknown) => subscriber.error(error),
        );
      };
      return ticks.subscribe({
        next: () => {
          if (reading) again = true;
          else next();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * The console's routes (@Injectable for its constructor's metadata); ResilienceModule mounts a subclass at `admin.path` (adminControllersAt).
 * The page and its script are public (the same bytes as in the package, no data); every
 * other route needs AdminAuthGuard. Mutations are POST or DELETE only: a POST needs a JSON
 * body (a cross-site form cannot send one without a CORS preflight), and each is audited.
 */
@Injectable()
export class AdminController {
  private readonly audit = new Logger('ResilienceAudit');

  constructor(
    private readonly admin: AdminConsole,
    private readonly access: AdminAccess,
    private readonly settings: ResilienceSettings,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header(...NO_STORE)
  @PAGE_HEADERS
  page(@Req() request: { originalUrl?: string; url?: string }): string {
    const own = (request.originalUrl ?? request.url ?? '/').split('?')[0] ?? '/';
    return consolePage(own, this.access.usesToken ? 'token' : 'guard');
  }

  @Get('console.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): string {
    return consoleScript();
  }

  @Get('status')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  status() {
    return this.admin.status();
  }

  /** Server-sent events: the status every second, and at once when a breaker changes state; ended at shutdown. */
  @Sse('events')
  @UseGuards(AdminAuthGuard)
  events(@Req() request: { socket?: Socket; raw?: { socket?: Socket } }): Observable<MessageEvent> {
    const release = this.admin.holdStream(request.raw?.socket ?? request.socket);
    return merge(interval(1000), this.admin.changes).pipe(
      startWith(0),
      readLatest(() => this.admin.streamStatus()),
      map((data) => ({ type: 'status', data })),
      takeUntil(this.admin.closing),
      finalize(release),
    );
  }

  @Get('breakers')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  breakers() {
    return { breakers: this.admin.breakerList() };
  }

  @Get('breakers/:name')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  breaker(@Param('name') name: string) {
    return answer(() => this.admin.breaker(name));
  }

  @Post('breakers/:name/:action')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  actOnBreaker(@Req() request: AdminRequest, @Param('name') name: string, @Param('action') action: string) {
    return this.mutation(request, `${action} breaker ${name}`, () => {
      if (!BREAKER_ACTIONS.includes(action as BreakerAction)) {
        throw new AdminRequestError(404, `no breaker action ${JSON.stringify(action)} (${BREAKER_ACTIONS.join(', ')})`);
      }
      return this.admin.actOnBreaker(name, action as BreakerAction);
    });
  }

  @Get('limiters')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  limiters() {
    return { limiters: this.admin.limiterList() };
  }

  @Get('bulkheads')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  bulkheads() {
    return { bulkheads: this.admin.bulkheadList() };
  }

  @Get('dlq')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  async queues() {
    return { queues: await this.admin.queueList() };
  }

  @Get('dlq/:queue')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  letters(@Param('queue') queue: string, @Query() query: Record<string, unknown>) {
    return answer(() => this.admin.letters(queue, query));
  }

  @Get('dlq/:queue/letters/:id')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  letter(@Param('queue') queue: string, @Param('id') id: string) {
    return answer(() => this.admin.letter(queue, id));
  }

  @Post('dlq/:queue/replay')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  replay(@Req() request: AdminRequest, @Param('queue') queue: string, @Body() body: unknown) {
    return this.mutation(request, `replay queue ${queue}`, () => this.admin.replay(queue, objectBody(body)));
  }

  @Delete('dlq/:queue')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  purge(@Req() request: AdminRequest, @Param('queue') queue: string, @Query('confirm') confirm: unknown) {
    return this.mutation(request, `purge queue ${queue}`, () => this.admin.purge(queue, confirm));
  }

  @Get('rollouts')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  rollouts() {
    return { rollouts: this.admin.rolloutList() };
  }

  @Post('rollouts/:service')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  setRollout(@Req() request: AdminRequest, @Param('service') service: string, @Body() body: unknown) {
    return this.mutation(request, `set rollout ${service} to ${JSON.stringify(shareOf(body))}`, () =>
      this.admin.setRollout(service, objectBody(body).percent),
    );
  }

  @Get('config')
  @UseGuards(AdminAuthGuard)
  @Header(...NO_STORE)
  configuration() {
    return { ...this.admin.configuration(), version: this.settings.version };
  }

  private mutation<T>(request: AdminRequest, what: string, work: () => T | Promise<T>): Promise<T> {
    return auditedMutation(this.audit, request, what, work);
  }
}

/** The console mounted at `path` (a subclass per app: the path is the app's), its operations' routes beside it. */
export function adminControllersAt(path: string): Type<unknown>[] {
  class ResilienceAdminController extends AdminController {}
  Controller(path)(ResilienceAdminController);
  class ResilienceOpsController extends AdminOpsController {}
  Controller(path)(ResilienceOpsController);
  return [ResilienceAdminController, ResilienceOpsController];
}
