import { BadRequestException, Injectable } from '@nestjs/common';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { ConnectionStore } from './connection-store.service.js';
import type { Connection } from './entities/connection.entity.js';

/** Keys a settings patch may carry at most (each provider accepts a handful). */
const MAX_KEYS = 20;

/**
 * Provider settings of a connection (Jira's `jql` scope override). The provider checks every
 * patch before it is stored; a key set to null returns to the provider's default. Settings the
 * engine owns (the schedule) have their own routes.
 */
@Injectable()
export class SettingsService {
  constructor(
    private readonly store: ConnectionStore,
    private readonly registry: ProviderRegistry,
  ) {}

  async patch(id: string, patch: unknown): Promise<Connection> {
    const connection = await this.store.get(id);
    const provider = this.registry.get(connection.provider);
    if (!provider.validateSettings) {
      throw invalid([`${connection.provider} connections have no settings to change`]);
    }
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
      throw invalid(['the body must be a JSON object of settings']);
    }
    const settings = patch as Record<string, unknown>;
    const count = Object.keys(settings).length;
    if (count === 0) throw invalid(['the body names no setting']);
    if (count > MAX_KEYS) throw invalid([`at most ${MAX_KEYS} settings per request`]);
    const problems = provider.validateSettings(settings);
    if (problems.length) throw invalid(problems);
    return this.store.updateSettings(id, settings);
  }
}

function invalid(problems: string[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'invalid_settings', message: problems });
}
