import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  UseFilters,
} from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiFoundResponse,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../core/security/public.decorator.js';
import { CallbackThrottle } from '../core/throttle/callback-throttle.js';
import { ConfirmService } from './confirm.service.js';
import { CONNECT_UI_LANDING_PATH, ConnectService } from './connect.service.js';
import { ConfirmConnectionDto } from './dto/confirm.dto.js';
import { ConnectionDto } from './dto/connection.dto.js';
import { AuthorizeDto, AuthorizeResponseDto, CallbackResponseDto } from './dto/authorize.dto.js';
import { CallbackExceptionFilter } from './oauth/callback-exception.filter.js';

const PROVIDER_PARAM = {
  name: 'provider',
  description: 'Integration id',
  example: 'google-calendar',
} as const;

const errorExample = (statusCode: number, error: string, message: string) => ({
  schema: { example: { statusCode, error, message } },
});

/** The two legs of connecting an account: start (internal) and the provider's callback (public). */
@ApiTags('connections')
@Controller('v1')
export class ConnectController {
  constructor(
    private readonly connect: ConnectService,
    private readonly confirmations: ConfirmService,
  ) {}

  @Post('connections/:provider/authorize')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Start connecting a provider account',
    description:
      'Creates a single-use state (10 minutes, PKCE S256 where the provider supports it) bound ' +
      'to the user, the provider and returnTo, and answers the URL to send the browser to.',
  })
  @ApiParam(PROVIDER_PARAM)
  @ApiBody({
    type: AuthorizeDto,
    examples: {
      withReturnTo: {
        value: { userId: 'user-42', returnTo: 'https://app.pdeck.example/settings/integrations' },
      },
      withoutReturnTo: { value: { userId: 'user-42' } },
    },
  })
  @ApiCreatedResponse({ type: AuthorizeResponseDto })
  @ApiBadRequestResponse(
    errorExample(
      400,
      'invalid_return_to',
      'returnTo is not on an allowed origin (RETURN_TO_ORIGINS).',
    ),
  )
  @ApiUnauthorizedResponse({ description: 'Missing or wrong internal bearer token' })
  @ApiNotFoundResponse({ description: 'Unknown provider, or not enabled on this service' })
  authorize(
    @Param('provider') provider: string,
    @Body() dto: AuthorizeDto,
  ): Promise<{ authorizeUrl: string }> {
    return this.connect.authorize(provider, dto);
  }

  @Get('oauth/:provider/callback')
  @Public()
  @CallbackThrottle()
  @UseFilters(CallbackExceptionFilter)
  @ApiOperation({
    summary: "The provider's redirect back after consent (opened by the user's browser)",
    description:
      'Redeems the state (once, and only at the path of the provider it was issued for), ' +
      'exchanges the code, keeps the grant (encrypted) in a `pending` connection and redirects ' +
      'to returnTo with ?connectionId=&confirm= for PDeck to confirm, or with ?error=<code> when ' +
      'anything fails after the state was redeemed. Without returnTo it answers JSON. Refusals ' +
      'before that are 400 with JSON, or a short HTML page for browsers.',
  })
  @ApiParam(PROVIDER_PARAM)
  @ApiQuery({ name: 'code', required: false, description: 'OAuth 2.0 authorization code' })
  @ApiQuery({ name: 'state', required: false, description: 'The state issued by authorize' })
  @ApiQuery({ name: 'error', required: false, example: 'access_denied' })
  @ApiQuery({ name: 'oauth_token', required: false, description: 'OAuth 1.0a request token' })
  @ApiQuery({ name: 'oauth_verifier', required: false, description: 'OAuth 1.0a verifier' })
  @ApiFoundResponse({
    description:
      'To returnTo?connectionId=<id>&confirm=<one-time token>, or returnTo?error=<code> ' +
      '(access_denied, token_exchange_failed, provider_unavailable, temporarily_unavailable)',
  })
  @ApiOkResponse({
    type: CallbackResponseDto,
    description: 'Granted, waiting for confirmation; the flow had no returnTo',
  })
  @ApiBadRequestResponse(
    errorExample(
      400,
      'invalid_state',
      'The state is unknown, expired or was already used. Start the connection again from PDeck.',
    ),
  )
  @ApiBadGatewayResponse({ description: 'The provider failed during the exchange' })
  @ApiTooManyRequestsResponse({
    description: 'More than OAUTH_CALLBACK_RATE_LIMIT callbacks a minute from this address',
  })
  @ApiNotFoundResponse({ description: 'Unknown provider, or not enabled on this service' })
  async callback(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ): Promise<void> {
    const result = await this.connect.callback(provider, query);
    // The URL carried a one-time code: neither it nor the answer may be cached anywhere.
    res.setHeader('cache-control', 'no-store');
    if ('redirect' in result) {
      // Landing on the Connect UI: helmet's COOP `same-origin` on this redirect would switch the
      // popup's browsing context group and cut its window.opener (PDeck's page), through which
      // /connect/done hands the result over (docs/connect-ui.md).
      if (new URL(result.redirect).pathname === CONNECT_UI_LANDING_PATH) {
        res.setHeader('cross-origin-opener-policy', 'unsafe-none');
      }
      res.redirect(302, result.redirect);
      return;
    }
    res.status(result.status).json(result.body);
  }

  @Post('connections/:id/confirm')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Confirm a grant for the PDeck user signed in where the browser landed',
    description:
      "Called by PDeck's backend with the `connectionId` and `confirm` parameters the browser " +
      'brought back to returnTo, and the user it knows is signed in there. Activates the ' +
      'connection (first sync and webhooks start) only when that user started the flow and the ' +
      'token matches: single use, valid 10 minutes. Anything else revokes the grant at the ' +
      'provider and forgets it (403). A reconnect of an existing connection is confirmed the ' +
      'same way; until then the connection keeps its previous credentials.',
  })
  @ApiBody({ type: ConfirmConnectionDto })
  @ApiOkResponse({ type: ConnectionDto, description: 'Active' })
  @ApiForbiddenResponse(
    errorExample(
      403,
      'confirmation_refused',
      'The grant was not confirmed for the user who started the flow; it was revoked.',
    ),
  )
  @ApiConflictResponse(
    errorExample(409, 'not_pending', 'This connection has no grant waiting for confirmation.'),
  )
  @ApiGoneResponse(
    errorExample(410, 'confirmation_expired', 'The confirmation window (10 minutes) has passed.'),
  )
  @ApiNotFoundResponse({ description: 'No such connection' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong internal bearer token' })
  async confirm(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: ConfirmConnectionDto,
  ): Promise<ConnectionDto> {
    return ConnectionDto.from(await this.confirmations.confirm(id, dto));
  }
}
