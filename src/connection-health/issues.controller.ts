import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ConnectionStore } from '../auth/connection-store.service.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { ConnectionPauseService } from './connection-pause.service.js';
import {
  ConnectionIssueDto,
  ConnectionIssuesQuery,
  IssuePageDto,
  ListIssuesQuery,
  PauseConnectionDto,
  PauseResultDto,
  ResumeConnectionDto,
} from './dto/issues.dto.js';
import { IssuesService } from './issues.service.js';

/** Who paused or resumed when the caller does not say. */
const API_ACTOR = 'api';

@ApiTags('connection health')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing or unknown internal API bearer token' })
@Controller('v1')
export class IssuesController {
  constructor(
    private readonly issues: IssuesService,
    private readonly pauses: ConnectionPauseService,
    private readonly connections: ConnectionStore,
  ) {}

  @Get('issues')
  @ApiOperation({
    summary: 'Connection issues, newest first',
    description: 'Filter by status (open | resolved) and provider; paged with nextCursor.',
  })
  @ApiOkResponse({ type: IssuePageDto })
  @ApiBadRequestResponse({ description: 'Invalid filter, limit or cursor' })
  list(@Query() query: ListIssuesQuery): Promise<IssuePageDto> {
    return this.issues.list(query);
  }

  @Get('connections/:id/issues')
  @ApiOperation({ summary: "A connection's issues, newest first" })
  @ApiOkResponse({ type: IssuePageDto })
  @ApiBadRequestResponse({ description: 'id is not a UUID, or an invalid filter' })
  @ApiNotFoundResponse({ description: 'No such connection' })
  async forConnection(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: ConnectionIssuesQuery,
  ): Promise<IssuePageDto> {
    await this.connections.get(id);
    return this.issues.list({ ...query, connectionId: id });
  }

  @Post('issues/:id/mute')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mute an issue: it sends no more notifications (not even resolved)' })
  @ApiOkResponse({ type: ConnectionIssueDto })
  @ApiNotFoundResponse({ description: 'No such issue' })
  mute(@Param('id', ParseUUIDPipe) id: string): Promise<ConnectionIssueDto> {
    return this.issues.mute(id);
  }

  @Post('issues/:id/unmute')
  @HttpCode(200)
  @ApiOperation({ summary: 'Unmute an issue' })
  @ApiOkResponse({ type: ConnectionIssueDto })
  @ApiNotFoundResponse({ description: 'No such issue' })
  unmute(@Param('id', ParseUUIDPipe) id: string): Promise<ConnectionIssueDto> {
    return this.issues.unmute(id);
  }

  @Post('connections/:id/pause')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Pause a connection: no scheduled, webhook-triggered or manual syncs until resumed',
  })
  @ApiOkResponse({ type: PauseResultDto })
  @ApiNotFoundResponse({ description: 'No such connection' })
  pause(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: PauseConnectionDto,
  ): Promise<PauseResultDto> {
    return withQueueTimeout(
      this.pauses.pause(id, body.reason ?? 'paused by an operator', body.actor ?? API_ACTOR),
    );
  }

  @Post('connections/:id/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused connection: its schedule returns and a sync starts' })
  @ApiOkResponse({ type: PauseResultDto })
  @ApiNotFoundResponse({ description: 'No such connection' })
  resume(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ResumeConnectionDto,
  ): Promise<PauseResultDto> {
    return withQueueTimeout(this.pauses.resume(id, body.actor ?? API_ACTOR));
  }
}
