import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { Observable } from 'rxjs';
import { AdminController } from '../admin/admin.controller.js';
import { methodRefOf } from '../decorators/wrap-method.js';
import type { InterceptorMode } from '../module-options.js';
import { PATTERN_SERVICES } from '../patterns.js';
import { ResilienceRuntime } from '../resilience-runtime.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { ResilienceService } from '../services/resilience.service.js';
import { RESILIENCE_INTERCEPTOR_MODE } from '../tokens.js';
import { InjectionGraph } from './injection-graph.js';
import { ResilienceInterceptor } from './resilience.interceptor.js';
import { addRouteCallParam } from './route-call.js';
import { RouteServices, routeOf } from './route-services.js';

/**
 * The name under which handlers carry ResilienceInterceptor in 'routes' mode: each app
 * maps it, in the handler's module, to its own interceptor instance. Another app in the
 * same process that uses the class in another mode finds it in the metadata and has Nest
 * construct it: then it lets calls pass.
 */
@Injectable()
export class RouteInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

export type { InterceptorMode } from '../module-options.js';

/** Providers whose methods a handler calls to run resilience programmatically. */
const RESILIENCE_SERVICES: unknown[] = [...PATTERN_SERVICES, ResilienceService, ResilienceRuntime];

/** Metadata that makes a provider method a handler: GraphQL resolvers, WebSocket gateways. */
const PROVIDER_HANDLER_KEYS = ['graphql:resolver_type', 'websockets:message_mapping'];

/**
 * In 'routes' mode, puts ResilienceInterceptor on the handlers that need it, and on no
 * other: any interceptor costs a Nest route its RxJS chain on every request. A handler
 * needs it when it is decorated by us, when `http.routes` maps it to a service, or when
 * its class can reach resilience through dependency injection (it injects, directly or
 * through other providers, a provider with decorated methods or one of our services):
 * that is where a limiter needs the request for its key and our errors need mapping.
 * Runs when ResilienceModule is constructed: the scan is complete (the graph is read from
 * metadata, not instances) and Nest has built no router, resolver or message handler yet.
 */
@Injectable()
export class InterceptorBinding {
  private bound = false;
  private readonly reaches = new Map<InstanceWrapper, boolean>();
  private readonly routes: RouteServices;
  private readonly graph: InjectionGraph;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly scanner: MetadataScanner,
    private readonly interceptor: ResilienceInterceptor,
    private readonly runtime: ResilienceRuntime,
    @Inject(RESILIENCE_INTERCEPTOR_MODE) private readonly mode: InterceptorMode,
    settings: ResilienceSettings,
  ) {
    this.routes = new RouteServices(settings.config.http?.routes);
    this.graph = new InjectionGraph(modules);
  }

  bind(): void {
    if (this.bound || this.mode !== 'routes') return;
    this.bound = true;
    this.runtime.finishRoutesWith(this.interceptor);
    const ours = this.ownWrapper();
    for (const module of this.modules.values()) {
      let attached = false;
      for (const wrapper of module.controllers.values()) attached = this.bindClass(wrapper, true) || attached;
      for (const wrapper of module.providers.values()) attached = this.bindClass(wrapper, false) || attached;
      // Nest resolves an interceptor class in the handler's module: there, it is this app's instance.
      if (attached) module.injectables.set(RouteInterceptor, ours);
    }
  }

  /** The container's wrapper of this app's ResilienceInterceptor. */
  private ownWrapper(): InstanceWrapper {
    for (const module of this.modules.values()) {
      const wrapper = module.providers.get(ResilienceInterceptor);
      if (wrapper?.instance === this.interceptor) return wrapper as InstanceWrapper;
    }
    throw new Error('nest-resilience: ResilienceInterceptor is not among the providers of any module');
  }

  /** Attaches to the class's handlers that need it; true if it attached to any. */
  private bindClass(wrapper: InstanceWrapper, isController: boolean): boolean {
    const metatype = wrapper.metatype as Type | null;
    if (typeof metatype !== 'function' || wrapper.inject) return false; // factories have no handlers
    if (metatype.prototype instanceof AdminController) return false; // the console maps its own errors
    const prototype = metatype.prototype as Record<string, unknown>;
    let classNeedsIt: boolean | undefined;
    let attached = false;
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function') continue;
      if (!isController && !PROVIDER_HANDLER_KEYS.some((key) => Reflect.hasMetadata(key, handler))) continue;
      classNeedsIt ??= this.dependsOnResilience(wrapper);
      const decorated = methodRefOf(handler) !== undefined;
      const mapped = this.mappedRoute(metatype, handler);
      if (!classNeedsIt && !decorated && !mapped) continue;
      // A decorated HTTP route whose class reaches no other resilience: the request and the
      // response come in as a route parameter and the runtime maps the outcome; no interceptor.
      if (isController && decorated && !classNeedsIt && !mapped && this.fastRoute(metatype, name, handler)) {
        addRouteCallParam(metatype, name, handler);
        continue;
      }
      attached = this.attach(metatype, handler) || attached;
    }
    return attached;
  }

  /** An HTTP route (not a message handler, not an Observable or SSE one) the user left to us. */
  private fastRoute(controller: Type, name: string, handler: object): boolean {
    if (!Reflect.hasMetadata('path', handler) || Reflect.hasMetadata('microservices:pattern', handler)) return false;
    if (Reflect.getMetadata('design:returntype', controller.prototype, name) === Observable) return false;
    if (Reflect.hasMetadata('__sse__', handler)) return false;
    return !usersOwnInterceptor(controller, handler);
  }

  private mappedRoute(controller: Type, handler: object): boolean {
    if (this.routes.empty) return false;
    const route = routeOf(controller, handler);
    return route !== undefined && this.routes.serviceOf(route.verb, route.path) !== undefined;
  }

  /**
   * First among the handler's own interceptors, unless the user applied ResilienceInterceptor
   * there. Metadata lives on the class, shared by every app in the process that uses it, so
   * it names a class each app resolves in its own module (an app that did not register it
   * there, in another mode, resolves nothing and runs without it).
   */
  private attach(controller: Type, handler: object): boolean {
    if (usersOwnInterceptor(controller, handler)) return false;
    const own = interceptorsOn(handler);
    if (!own.includes(RouteInterceptor))
      Reflect.defineMetadata(INTERCEPTORS_METADATA, [RouteInterceptor, ...own], handler);
    return true;
  }

  /** What the class injects can run resilience (its own decorated methods get it one by one). */
  private dependsOnResilience(wrapper: InstanceWrapper): boolean {
    return this.graph.dependenciesOf(wrapper).some((dependency) => this.reachesResilience(dependency));
  }

  /**
   * The provider runs resilience, or injects, directly or through other providers, one that
   * does. A search that finds nothing has seen everything reachable from every node it
   * visited, so they are all known not to reach it; one that finds it only marks its start.
   */
  private reachesResilience(start: InstanceWrapper): boolean {
    const known = this.reaches.get(start);
    if (known !== undefined) return known;
    const visited = new Set<InstanceWrapper>([start]);
    const pending = [start];
    let found = false;
    while (pending.length && !found) {
      const wrapper = pending.pop() as InstanceWrapper;
      found = this.reaches.get(wrapper) === true || runsResilience(wrapper);
      for (const dependency of this.graph.dependenciesOf(wrapper)) {
        if (visited.has(dependency) || this.reaches.get(dependency) === false) continue;
        visited.add(dependency);
        pending.push(dependency);
      }
    }
    if (found) this.reaches.set(start, true);
    else for (const wrapper of visited) this.reaches.set(wrapper, false);
    return found;
  }
}

function interceptorsOn(target: object): unknown[] {
  return (Reflect.getMetadata(INTERCEPTORS_METADATA, target) as unknown[] | undefined) ?? [];
}

/** The user put ResilienceInterceptor on the handler or its class (@UseInterceptors): theirs stays. */
function usersOwnInterceptor(controller: Type, handler: object): boolean {
  const ours = (i: unknown) => i === ResilienceInterceptor || i instanceof ResilienceInterceptor;
  return interceptorsOn(handler).some(ours) || interceptorsOn(controller).some(ours);
}

function runsResilience(wrapper: InstanceWrapper): boolean {
  const metatype = wrapper.metatype as Type | null;
  if (RESILIENCE_SERVICES.includes(metatype) || RESILIENCE_SERVICES.includes(wrapper.token)) return true;
  if (typeof metatype === 'function' && !wrapper.inject) return hasDecoratedMethod(metatype);
  // A value provider: the object it provides may carry decorated methods.
  const value = !metatype && !wrapper.inject ? (wrapper.instance as object | null | undefined) : null;
  return !!value && typeof value === 'object' && hasDecoratedMethod(value.constructor as Type);
}

const SCANNER = new MetadataScanner();

function hasDecoratedMethod(metatype: Type): boolean {
  const prototype = metatype.prototype as Record<string, unknown> | undefined;
  if (!prototype) return false;
  return SCANNER.getAllMethodNames(prototype).some((name) => methodRefOf(prototype[name]) !== undefined);
}
