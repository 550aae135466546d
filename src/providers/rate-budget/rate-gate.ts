import { Injectable } from '@nestjs/common';
import { ProviderRegistry } from '../provider-registry.js';
import { RateBudgetService, type RateCall } from './rate-budget.service.js';

/**
 * Admits one provider request, or throws ProviderError RATE_LIMITED with the time to come back.
 * Every provider context calls it before each request. An abstract class so it doubles as the
 * injection token: a context cannot be created without a gate (unit tests of a provider pass an
 * explicit open gate), so no code path can skip the shared budgets by accident.
 */
export abstract class RateGate {
  abstract admit(provider: string, call: RateCall): Promise<void>;
}

/** The production gate: the provider's documented budgets, shared by every process in Redis. */
@Injectable()
export class RateBudgetGate extends RateGate {
  constructor(
    private readonly budgets: RateBudgetService,
    private readonly registry: ProviderRegistry,
  ) {
    super();
  }

  admit(provider: string, call: RateCall): Promise<void> {
    return this.budgets.acquire(provider, call, this.registry.get(provider).catalog.rateBudgets);
  }
}

/** Admits everything: for unit tests of a provider against a local fake, where no budget applies. */
export const OPEN_RATE_GATE: RateGate = { admit: () => Promise.resolve() };
