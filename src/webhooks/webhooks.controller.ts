import {
  Controller,
  Head,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  type RawBodyRequest,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { Public } from '../core/security/public.decorator.js';
import type { WebhookRequest } from '@pdeck/integration-sdk';
import { webhookBody } from './webhook-raw-body.js';
import { WebhookReceiverService } from './webhook-receiver.service.js';

/** Provider-facing receiver: public, authenticated per provider from the raw request. */
@ApiTags('webhooks')
@Public()
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly receiver: WebhookReceiverService,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  @Post(':provider')
  @ApiOperation({
    summary: 'Receive a provider webhook',
    description:
      "Verified by the provider's scheme over the raw body and the exact URL, stored (deduplicated " +
      "on the provider's delivery id), queued, then acknowledged. Slack's Request URL is " +
      '$PUBLIC_URL/v1/webhooks/slack.',
  })
  @ApiOkResponse({ description: 'Accepted (or already accepted earlier)' })
  @ApiBadRequestResponse({ description: 'Authentic but malformed body' })
  @ApiUnauthorizedResponse({ description: 'Signature, token or timestamp invalid' })
  @ApiNotFoundResponse({ description: 'Unknown or disabled provider, or unknown subscription' })
  @ApiPayloadTooLargeResponse({ description: 'Body over 1 MB' })
  @ApiServiceUnavailableResponse({ description: 'Storage or queue unavailable: retry later' })
  @ApiTooManyRequestsResponse({
    description: 'Too many deliveries from this address failed verification in the last minute',
  })
  async receive(
    @Param('provider') provider: string,
    @Req() req: RawBodyRequest<Request>,
    @Res() res: Response,
  ): Promise<void> {
    this.receiver.handlerOf(provider);
    // req.ip: counted only when the delivery fails verification (TRUST_PROXY behind a proxy).
    const answer = await this.receiver.receive(provider, await this.toWebhookRequest(req), req.ip);
    res.status(answer.status);
    if (answer.contentType) res.type(answer.contentType);
    res.send(answer.body ?? '');
  }

  /** Trello checks the callback URL with HEAD before it creates a webhook. */
  @Head(':provider')
  @HttpCode(200)
  @ApiOperation({ summary: 'Callback URL probe (Trello)' })
  probe(@Param('provider') provider: string): void {
    if (this.receiver.handlerOf(provider).probe !== 'head') throw new NotFoundException();
  }

  private async toWebhookRequest(req: RawBodyRequest<Request>): Promise<WebhookRequest> {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const query: Record<string, string> = {};
    for (const [name, value] of new URL(req.originalUrl, 'http://x').searchParams)
      query[name] = value;
    return {
      rawBody: await webhookBody(req),
      headers,
      // What the provider called, not what a proxy rewrote it to: Trello signs this string.
      url: `${this.config.publicUrl}${req.originalUrl}`,
      query,
    };
  }
}
