import { describe, expect, it } from 'vitest';
import { HttpStatusError, type ProviderContext } from '@pdeck/integration-sdk';
import { graph, mapGraphError } from './outlook-calendar.http.js';

function graphFailure(status: number, code?: string): HttpStatusError {
  return new HttpStatusError({
    provider: 'outlook-calendar',
    method: 'GET',
    status,
    url: 'https://graph.microsoft.com/v1.0/me/calendarView/delta',
    headers: new Headers({ 'content-type': 'application/json' }),
    bodyText: code ? JSON.stringify({ error: { code, message: 'm', innerError: {} } }) : '',
  });
}

describe('Graph error mapping', () => {
  it('410 Gone and the resync codes in any casing are CURSOR_INVALID', () => {
    expect(mapGraphError(graphFailure(410, 'SyncStateNotFound')).code).toBe('CURSOR_INVALID');
    expect(mapGraphError(graphFailure(410)).code).toBe('CURSOR_INVALID');
    expect(mapGraphError(graphFailure(400, 'syncStateNotFound')).code).toBe('CURSOR_INVALID');
    expect(mapGraphError(graphFailure(404, 'resyncRequired')).code).toBe('CURSOR_INVALID');
    expect(mapGraphError(graphFailure(400, 'SYNCSTATEINVALID')).code).toBe('CURSOR_INVALID');
  });

  it('decides the rest by status, keeping the code as detail', () => {
    const rejected = mapGraphError(graphFailure(401, 'InvalidAuthenticationToken'));
    expect(rejected).toMatchObject({ code: 'TEMPORARY', accessTokenRejected: true });
    expect(rejected.detail).toBe('InvalidAuthenticationToken');
    expect(mapGraphError(graphFailure(403, 'ErrorAccessDenied')).code).toBe('PERMISSION');
    expect(mapGraphError(graphFailure(404, 'ErrorItemNotFound')).code).toBe('NOT_FOUND');
    expect(mapGraphError(graphFailure(400, 'invalidRequest')).code).toBe('UNKNOWN');
  });

  it('never sends the token outside Graph, whatever a next link says', async () => {
    let called = false;
    const ctx = {
      credentials: async () => ({ accessToken: 'secret' }),
      http: {
        request: async () => {
          called = true;
          return { status: 200, headers: new Headers(), data: {}, url: '' };
        },
      },
    } as unknown as ProviderContext;
    await expect(
      graph(ctx, { operation: 'x', url: 'https://evil.example/v1.0/me' }),
    ).rejects.toMatchObject({ code: 'UNKNOWN' });
    await expect(
      graph(ctx, { operation: 'x', url: 'https://graph.microsoft.com.evil.example/v1.0/me' }),
    ).rejects.toMatchObject({ code: 'UNKNOWN' });
    expect(called).toBe(false);
  });
});
