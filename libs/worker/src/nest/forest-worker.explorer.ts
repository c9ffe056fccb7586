import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { ForestWorkerConfigError } from '../forest-worker.errors';
import type { ForestJobHandler } from '../forest-worker.types';
import { FOREST_JOB_METADATA } from './forest-worker.constants';
import {
  type ForestJobSite,
  duplicateTargetMessage,
  invalidTargetMessage,
  nonStaticProviderMessage,
} from './forest-worker.messages';

export interface DiscoveredForestJob extends ForestJobSite {
  target: string;
  /** The method, bound to its provider instance. */
  handler: ForestJobHandler;
}

/**
 * Finds `@ForestJob` methods on every provider and controller (as @nestjs/schedule's
 * explorer does) and binds them to their instances. A target claimed twice is a boot error.
 */
@Injectable()
export class ForestWorkerExplorer {
  private readonly logger = new Logger(ForestWorkerExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  explore(): DiscoveredForestJob[] {
    const found = new Map<string, DiscoveredForestJob>();
    const wrappers: InstanceWrapper[] = [
      ...this.discovery.getProviders(),
      ...this.discovery.getControllers(),
    ];
    const seen = new Set<object>();
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance); // a provider exported or aliased shows up more than once
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const target = this.reflector.get<unknown>(FOREST_JOB_METADATA, method);
        if (target === undefined) continue;
        const className = instance.constructor?.name ?? String(wrapper.name);
        if (typeof target !== 'string' || target.length === 0) {
          throw new ForestWorkerConfigError(invalidTargetMessage(className, methodName));
        }
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(nonStaticProviderMessage(className, methodName, target));
          continue;
        }
        const previous = found.get(target);
        if (previous) {
          throw new ForestWorkerConfigError(
            duplicateTargetMessage(target, previous, { className, methodName }),
          );
        }
        found.set(target, {
          target,
          className,
          methodName,
          handler: (method as ForestJobHandler).bind(instance),
        });
      }
    }
    return [...found.values()];
  }
}
