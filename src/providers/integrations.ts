import type { Type } from '@nestjs/common';
import type { IntegrationProvider } from './integration-provider.js';

/** Every integration shipped with the service. One line per provider folder. */
export const INTEGRATIONS: Type<IntegrationProvider>[] = [];
