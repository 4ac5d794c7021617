import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { type MethodRef, methodRefOf } from './decorators/wrap-method.js';
import { RUNTIME } from './metadata.js';
import { ResilienceRuntime } from './resilience-runtime.js';

/**
 * At bootstrap, finds every provider and controller method carrying our decorators
 * (DiscoveryService + MetadataScanner), builds its pipeline, and binds the instance to
 * this application's runtime. Request-scoped and transient providers are bound through
 * their class, so every per-request instance shares the same named breakers and limiters.
 */
@Injectable()
export class ResilienceExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly runtime: ResilienceRuntime,
  ) {}

  onModuleInit(): void {
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const { instance, metatype } = wrapper;
      if (!instance || typeof instance !== 'object' || typeof metatype !== 'function') continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      const refs: MethodRef[] = [];
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const ref = methodRefOf(prototype[name]);
        if (ref) refs.push(ref);
      }
      if (refs.length === 0) continue;
      for (const ref of refs) this.runtime.prepare(ref, prototype);
      const isStatic = wrapper.isDependencyTreeStatic();
      const holder = isStatic ? instance : metatype;
      Object.defineProperty(holder, RUNTIME, { value: this.runtime, configurable: true, enumerable: false });
      // Replays need an instance: the singleton's (a request-scoped provider's letters are not replayable).
      if (isStatic) for (const ref of refs) this.runtime.registerReplay(ref, instance);
    }
  }
}
