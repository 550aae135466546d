import {
  Body,
  Controller,
  Delete,
  Get,
  Param,
  ParseUUIDPipe,
  Patch,
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ConnectionHealthService } from '../connection-health/connection-health.service.js';
import { ConnectionStore } from './connection-store.service.js';
import { DisconnectService } from './disconnect.service.js';
import {
  ChooseSiteDto,
  ConnectionDto,
  ConnectionSettingsDto,
  DisconnectQuery,
  ListConnectionsQuery,
  SiteDto,
} from './dto/connection.dto.js';
import { SettingsService } from './settings.service.js';
import { SiteChoiceService } from './site-choice.service.js';

/** Read and end connections. Creating one is the connect flow (ConnectController). */
@ApiTags('connections')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing or unknown internal API bearer token' })
@Controller('v1/connections')
export class ConnectionsController {
  constructor(
    private readonly store: ConnectionStore,
    private readonly disconnects: DisconnectService,
    private readonly sites: SiteChoiceService,
    private readonly settings: SettingsService,
    private readonly health: ConnectionHealthService,
  ) {}

  @Get()
  @ApiOperation({
    summary: "A user's connections, oldest first",
    description:
      'Every status except `pending` (grants waiting for confirmation), unless ?status= asks for one.',
  })
  @ApiOkResponse({ type: [ConnectionDto] })
  @ApiBadRequestResponse({ description: 'userId missing' })
  async list(@Query() query: ListConnectionsQuery): Promise<ConnectionDto[]> {
    const connections = await this.store.listByUser(query.userId, query.status);
    const health = await this.health.forConnections(connections.map((c) => c.id));
    return connections.map((c) => ConnectionDto.from(c, health.get(c.id)));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One connection' })
  @ApiOkResponse({ type: ConnectionDto })
  @ApiBadRequestResponse({ description: 'id is not a UUID' })
  @ApiNotFoundResponse({ description: 'No such connection' })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<ConnectionDto> {
    const connection = await this.store.get(id);
    const health = await this.health.forConnections([id]);
    return ConnectionDto.from(connection, health.get(id));
  }

  @Get(':id/sites')
  @ApiOperation({
    summary: 'The sites this connection can sync (Jira Cloud)',
    description:
      'For providers whose one grant reaches several sites. A connection confirmed with ' +
      '`pendingReason: site_required` waits for one of these to be chosen with PUT .../site. ' +
      'Sites of other products (a Confluence-only site) are not listed.',
  })
  @ApiOkResponse({ type: [SiteDto] })
  @ApiNotFoundResponse({ description: 'No such connection, or its provider has no sites' })
  @ApiConflictResponse({ description: 'The connection is disconnected or needs re-authorization' })
  listSites(@Param('id', ParseUUIDPipe) id: string): Promise<SiteDto[]> {
    return this.sites.list(id);
  }

  @Put(':id/site')
  @ApiOperation({
    summary: 'Choose the site a `site_required` connection syncs; it then becomes active',
    description:
      'Repeating the same choice answers 200. Choosing another site for an active connection ' +
      'is refused (409 site_already_chosen): disconnect and connect again to switch sites.',
  })
  @ApiOkResponse({ type: ConnectionDto })
  @ApiBadRequestResponse({ description: 'cloudId missing, or not one of the listed sites' })
  @ApiNotFoundResponse({ description: 'No such connection, or its provider has no sites' })
  @ApiConflictResponse({ description: 'Not waiting for a site choice, or a concurrent change' })
  async chooseSite(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ChooseSiteDto,
  ): Promise<ConnectionDto> {
    return ConnectionDto.from(await this.sites.choose(id, body.cloudId));
  }

  @Patch(':id/settings')
  @ApiOperation({
    summary: "Change a connection's provider settings (Jira: `jql`, the sync scope)",
    description:
      'Jira: `{"jql": "project = PD AND assignee = currentUser()"}` replaces the default scope ' +
      '(assigned issues not done or changed in the last 90 days); `{"jql": null}` restores it. ' +
      'The next sync reads the new scope in full; POST .../sync starts it now.',
  })
  @ApiBody({ schema: { type: 'object', example: { jql: 'project = PD' } } })
  @ApiOkResponse({ type: ConnectionSettingsDto })
  @ApiBadRequestResponse({
    description: 'A setting the provider does not accept (invalid_settings)',
  })
  @ApiNotFoundResponse({ description: 'No such connection' })
  async patchSettings(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
  ): Promise<ConnectionSettingsDto> {
    const connection = await this.settings.patch(id, body);
    return { settings: connection.settings };
  }

  /**
   * 200 with the disconnected connection (rather than 204), so the caller sees the final state,
   * including a `lastError` of `revoke_failed: ...` when the provider could not be told.
   * Repeating it is harmless and answers the same.
   */
  @Delete(':id')
  @ApiOperation({
    summary: 'Disconnect: revoke at the provider, stop syncs and webhooks, erase the tokens',
    description:
      'The row stays with status "disconnected"; reconnecting the same account re-activates it. ' +
      'Revocation failures do not block the disconnect; they are reported in lastError.',
  })
  @ApiOkResponse({
    type: ConnectionDto,
    example: {
      id: '0b6f7f0e-5d1c-4d0b-9a53-2f3c1c8e6f11',
      userId: 'user-42',
      provider: 'google-calendar',
      accountId: 'ada@example.com',
      accountLabel: 'ada@example.com',
      status: 'disconnected',
      scopes: ['https://www.googleapis.com/auth/calendar.readonly'],
      tokenExpiresAt: null,
      lastError: null,
      createdAt: '2026-11-20T08:30:00.000Z',
      updatedAt: '2026-11-28T09:00:00.000Z',
    },
  })
  @ApiBadRequestResponse({ description: 'id is not a UUID, or purgeItems is not true/false' })
  @ApiNotFoundResponse({ description: 'No such connection' })
  async disconnect(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: DisconnectQuery,
  ): Promise<ConnectionDto> {
    const connection = await this.disconnects.disconnect(id, { purgeItems: query.purgeItems });
    return ConnectionDto.from(connection);
  }
}
