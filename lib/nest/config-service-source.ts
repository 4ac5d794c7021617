import { packageRequire } from '../runtime/package-require.js';

export interface ConfigServiceLike {
  get(key: string): unknown;
}

/**
 * @nestjs/config's ConfigService class, when the package is installed. It is an
 * optional peer, so it is loaded lazily (synchronously, so that it can be a DI token:
 * injecting it makes Nest finish ConfigModule's `load` factories first).
 */
export function optionalConfigServiceToken(): (abstract new (...args: never[]) => ConfigServiceLike) | undefined {
  try {
    const require = packageRequire;
    return (require('@nestjs/config') as { ConfigService: abstract new (...args: never[]) => ConfigServiceLike })
      .ConfigService;
  } catch {
    return undefined;
  }
}

const ConfigService = optionalConfigServiceToken();

/**
 * The token to inject ConfigService optionally without importing @nestjs/config (its
 * class when installed, else a symbol nothing provides).
 */
export const CONFIG_SERVICE_TOKEN: symbol | (abstract new (...args: never[]) => ConfigServiceLike) =
  ConfigService ?? Symbol('NO_CONFIG_SERVICE');
