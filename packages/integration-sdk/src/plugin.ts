import type { DynamicModule, ForwardReference, Type } from '@nestjs/common';
import type { IntegrationClass } from './contract.js';

/** The plugin API this service implements; a plugin declares the one it was written for. */
export const PLUGIN_API_VERSION = '1';

/** A Nest module a plugin's provider needs (its exports become injectable into the provider). */
export type IntegrationPluginImport =
  Type<unknown> | DynamicModule | Promise<DynamicModule> | ForwardReference;

/**
 * What a plugin module exports, as its default export or as a named `integration` export. Listed
 * in INTEGRATION_PLUGINS, it is registered beside the built-in integrations: same registry, same
 * credentials variables from its catalog (enabled when they are set).
 */
export interface IntegrationPlugin {
  sdkVersion: typeof PLUGIN_API_VERSION;
  /** The integration class, with its catalog as a static property (and on its instances). */
  provider: IntegrationClass;
  /** Nest modules the provider needs, imported into the integration framework's module. */
  imports?: IntegrationPluginImport[];
}
