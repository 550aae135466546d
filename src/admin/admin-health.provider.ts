import type { Provider } from '@nestjs/common';
import { ConnectionHealthService } from '../connection-health/connection-health.service.js';
import { ConnectionPauseService } from '../connection-health/connection-pause.service.js';
import { IssuesService } from '../connection-health/issues.service.js';
import { ADMIN_HEALTH, type AdminHealthBridge } from './admin-health.js';

/** The console's view of connection health, issues and pauses (src/connection-health). */
export const adminHealthProvider: Provider = {
  provide: ADMIN_HEALTH,
  inject: [ConnectionHealthService, IssuesService, ConnectionPauseService],
  useFactory: (
    health: ConnectionHealthService,
    issues: IssuesService,
    pauses: ConnectionPauseService,
  ): AdminHealthBridge => ({
    forConnections: (ids) => health.forConnections(ids),
    listIssues: (filter) => issues.list(filter),
    mute: (id) => issues.mute(id),
    unmute: (id) => issues.unmute(id),
    pause: (id, reason, actor) => pauses.pause(id, reason, actor),
    resume: (id, actor) => pauses.resume(id, actor),
  }),
};
