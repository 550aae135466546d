import { BadRequestException, Body, Controller, Inject, Logger, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { checkReturnTo } from '../auth/oauth/return-to.js';
import { APP_CONFIG, type ResolvedAppConfig } from '../core/config/app-config.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { ConnectSessionStore } from './connect-session.store.js';
import { ConnectSessionResponseDto, CreateConnectSessionDto } from './dto/connect-session.dto.js';

const errorExample = (error: string, message: string) => ({
  schema: { example: { statusCode: 400, error, message } },
});

/** PDeck's backend asks for a Connect UI link for one of its users (internal bearer token). */
@ApiTags('connect-ui')
@Controller('v1/connect-sessions')
export class ConnectSessionsController {
  private readonly logger = new Logger(ConnectSessionsController.name);

  constructor(
    private readonly sessions: ConnectSessionStore,
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  @Post()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Create a one-time link to the Connect UI for a user',
    description:
      'The link opens the page where the user sees and manages their integrations (connect, ' +
      'reconnect, sync now, disconnect, Jira site choice). It works once and for 30 minutes; ' +
      'opening it starts a 2-hour browser session for this user only. See docs/connect-ui.md.',
  })
  @ApiBody({
    type: CreateConnectSessionDto,
    examples: {
      popup: {
        value: {
          userId: 'user-42',
          providers: ['google-calendar', 'jira'],
          returnTo: 'https://app.pdeck.example/settings/integrations',
        },
      },
      manageOnly: { value: { userId: 'user-42' } },
    },
  })
  @ApiCreatedResponse({ type: ConnectSessionResponseDto })
  @ApiBadRequestResponse(
    errorExample('invalid_providers', 'providers must be enabled integration ids: "asana"'),
  )
  @ApiUnauthorizedResponse({ description: 'Missing or wrong internal bearer token' })
  async create(@Body() dto: CreateConnectSessionDto): Promise<ConnectSessionResponseDto> {
    const unknown = (dto.providers ?? []).filter((id) => !this.registry.isEnabled(id));
    if (unknown.length > 0) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'invalid_providers',
        message: `providers must be enabled integration ids: ${unknown.map((id) => JSON.stringify(id)).join(', ')}`,
      });
    }
    const returnTo =
      dto.returnTo === undefined
        ? undefined
        : checkReturnTo(dto.returnTo, this.config.returnToOrigins);
    const providers = dto.providers ? [...new Set(dto.providers)] : undefined;
    const { token, expiresAt } = await this.sessions.createLink({
      userId: dto.userId,
      providers,
      returnTo,
    });
    this.logger.log({ userId: dto.userId, msg: 'Connect UI link created' });
    return {
      url: `${this.config.publicUrl}/connect/session?token=${token}`,
      expiresAt: expiresAt.toISOString(),
    };
  }
}
