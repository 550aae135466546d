import { BadGatewayException, BadRequestException } from '@nestjs/common';

/** Machine-readable `error` values of the connect routes' 4xx/5xx bodies. */
export type ConnectErrorCode =
  | 'invalid_state'
  | 'invalid_request'
  | 'invalid_return_to'
  | 'token_exchange_failed'
  | 'provider_unavailable'
  | 'provider_error'
  | 'access_denied';

/** Why a callback's state was refused, shared by the OAuth 2.0 and OAuth 1.0a flows. */
export type StateRejectionReason =
  'missing' | 'unknown_or_expired' | 'provider_mismatch' | 'token_mismatch';

const STATE_MESSAGES: Record<StateRejectionReason, string> = {
  missing: 'The callback carries no state parameter.',
  unknown_or_expired: 'The state is unknown, expired or was already used.',
  provider_mismatch: 'The state was issued for another provider than this callback path.',
  token_mismatch: 'The request token does not belong to this state.',
};

const RESTART = 'Start the connection again from PDeck.';

/** `{statusCode, error, message}`: Nest's body shape with an OAuth-style error code. */
export function connectError(code: ConnectErrorCode, message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: code, message });
}

export function invalidState(reason: StateRejectionReason): BadRequestException {
  return connectError('invalid_state', `${STATE_MESSAGES[reason]} ${RESTART}`);
}

export function tokenExchangeFailed(detail: string): BadRequestException {
  return connectError('token_exchange_failed', `${detail}. ${RESTART}`);
}

/** The provider failed (5xx, timeout, rate limit, broken answer): nothing to fix on our side. */
export function providerUnavailable(provider: string, what: string): BadGatewayException {
  return new BadGatewayException({
    statusCode: 502,
    error: 'provider_unavailable',
    message: `${provider} failed while ${what}. ${RESTART}`,
  });
}
