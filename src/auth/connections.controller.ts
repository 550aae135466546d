import { Controller, Delete, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ConnectionStore } from './connection-store.service.js';
import { DisconnectService } from './disconnect.service.js';
import { ConnectionDto, DisconnectQuery, ListConnectionsQuery } from './dto/connection.dto.js';

/** Read and end connections. Creating one is the connect flow (ConnectController). */
@ApiTags('connections')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing or unknown internal API bearer token' })
@Controller('v1/connections')
export class ConnectionsController {
  constructor(
    private readonly store: ConnectionStore,
    private readonly disconnects: DisconnectService,
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
    return connections.map((c) => ConnectionDto.from(c));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One connection' })
  @ApiOkResponse({ type: ConnectionDto })
  @ApiBadRequestResponse({ description: 'id is not a UUID' })
  @ApiNotFoundResponse({ description: 'No such connection' })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<ConnectionDto> {
    return ConnectionDto.from(await this.store.get(id));
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
