import { RequestMethod } from '@nestjs/common';

/** '/a//b/' -> '/a/b' */
function normalize(path: string): string {
  const joined = `/${path}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/** A handler's route as Nest declares it: 'GET /orders/:id'. */
export function routeOf(controller: object, handler: object): { verb: string; path: string } | undefined {
  const methodPath = Reflect.getMetadata('path', handler) as string | string[] | undefined;
  if (methodPath === undefined) return undefined;
  const controllerPath = (Reflect.getMetadata('path', controller) as string | string[] | undefined) ?? '';
  const first = (p: string | string[]) => (Array.isArray(p) ? (p[0] ?? '') : p);
  const method = Reflect.getMetadata('method', handler) as RequestMethod | undefined;
  return {
    verb: method === undefined ? 'GET' : RequestMethod[method],
    path: normalize(`${first(controllerPath)}/${first(methodPath)}`),
  };
}

/**
 * Matches routes to services from `http.routes`: an exact 'VERB /path', then '/path'
 * for any verb, then the longest 'VERB /prefix/*' or '/prefix/*'.
 */
export class RouteServices {
  private readonly exact = new Map<string, string>();
  private readonly prefixes: { verb?: string; prefix: string; service: string }[] = [];

  constructor(routes: Record<string, string> = {}) {
    for (const [pattern, service] of Object.entries(routes)) {
      const [verb, path] = pattern.includes(' ') ? pattern.split(' ', 2) : [undefined, pattern];
      if (path.endsWith('*')) this.prefixes.push({ verb, prefix: normalize(path.slice(0, -1)), service });
      else this.exact.set(`${verb ?? '*'} ${normalize(path)}`, service);
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length || (a.verb ? -1 : 1));
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.prefixes.length === 0;
  }

  serviceOf(verb: string, path: string): string | undefined {
    const exact = this.exact.get(`${verb} ${path}`) ?? this.exact.get(`ALL ${path}`) ?? this.exact.get(`* ${path}`);
    if (exact) return exact;
    for (const p of this.prefixes) {
      if (p.verb && p.verb !== verb && p.verb !== 'ALL') continue;
      if (path === p.prefix || path.startsWith(p.prefix === '/' ? '/' : `${p.prefix}/`)) return p.service;
    }
    return undefined;
  }
}
