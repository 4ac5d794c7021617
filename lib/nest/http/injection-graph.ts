import type { InjectionToken, Type } from '@nestjs/common';
import { PARAMTYPES_METADATA, PROPERTY_DEPS_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants.js';
import type { ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';

type Dependency = InjectionToken | { forwardRef: () => InjectionToken } | { token: InjectionToken } | undefined;

/**
 * Who injects whom, read from the metadata Nest itself reads (constructor parameter
 * types, @Inject overrides, property injection, factory `inject` lists) and matched to
 * the providers the container holds. It needs only the scan, not the instances, so it
 * can be read before Nest has constructed anything.
 */
export class InjectionGraph {
  private readonly byToken = new Map<unknown, InstanceWrapper[]>();

  constructor(modules: ModulesContainer) {
    for (const module of modules.values()) {
      for (const [token, wrapper] of module.providers) {
        const list = this.byToken.get(token) ?? [];
        list.push(wrapper as InstanceWrapper);
        this.byToken.set(token, list);
      }
    }
  }

  /** The providers a class or factory provider gets injected. */
  dependenciesOf(wrapper: InstanceWrapper): InstanceWrapper[] {
    return tokensOf(wrapper).flatMap((token) => this.byToken.get(token) ?? []);
  }
}

function tokenOf(dependency: Dependency): unknown {
  if (dependency && typeof dependency === 'object') {
    if ('forwardRef' in dependency) return dependency.forwardRef();
    if ('token' in dependency) return dependency.token;
  }
  return dependency;
}

function tokensOf(wrapper: InstanceWrapper): unknown[] {
  if (wrapper.inject) return (wrapper.inject as Dependency[]).map(tokenOf);
  const metatype = wrapper.metatype as Type | null;
  if (typeof metatype !== 'function') return [];
  const params = [...((Reflect.getMetadata(PARAMTYPES_METADATA, metatype) as Dependency[] | undefined) ?? [])];
  const declared =
    (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, metatype) as
      | { index: number; param: Dependency }[]
      | undefined) ?? [];
  for (const { index, param } of declared) params[index] = param;
  const properties =
    (Reflect.getMetadata(PROPERTY_DEPS_METADATA, metatype) as { type: Dependency }[] | undefined) ?? [];
  return [...params, ...properties.map((p) => p.type)].map(tokenOf).filter((t) => t !== undefined);
}
