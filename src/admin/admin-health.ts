import type { InjectionToken } from '@nestjs/common';

/**
 * What the console uses of the connection health model (src/connection-health), behind one
 * optional token: without it the console shows the connections' status, hides the pause
 * buttons and says that issues are not tracked.
 */
export type AdminHealthState =
  'healthy' | 'syncing' | 'late' | 'failing' | 'needs_reauth' | 'paused';

export const ADMIN_HEALTH_STATES: readonly AdminHealthState[] = [
  'healthy',
  'syncing',
  'late',
  'failing',
  'needs_reauth',
  'paused',
];

export interface AdminHealth {
  state: AdminHealthState;
  reason: string;
  since: string | null;
}

export interface AdminIssue {
  id: string;
  connectionId: string;
  userId: string;
  provider: string;
  type: string;
  status: 'open' | 'resolved';
  muted: boolean;
  firstSeenAt: Date | string;
  lastSeenAt: Date | string;
  count: number;
  lastError: string | null;
  resolvedAt: Date | string | null;
}

export interface AdminIssueFilter {
  status?: 'open' | 'resolved';
  provider?: string;
  connectionId?: string;
  limit?: number;
  cursor?: string;
}

export interface AdminHealthBridge {
  forConnections(ids: string[]): Promise<Map<string, AdminHealth>>;
  listIssues(
    filter: AdminIssueFilter,
  ): Promise<{ issues: AdminIssue[]; nextCursor: string | null }>;
  mute(issueId: string): Promise<unknown>;
  unmute(issueId: string): Promise<unknown>;
  pause(connectionId: string, reason: string, actor: string): Promise<unknown>;
  resume(connectionId: string, actor: string): Promise<unknown>;
}

export const ADMIN_HEALTH: InjectionToken<AdminHealthBridge> = Symbol('ADMIN_HEALTH');
