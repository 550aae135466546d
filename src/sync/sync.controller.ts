import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  ConflictException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiServiceUnavailableResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ConnectionStore } from '../auth/connection-store.service.js';
import {
  SyncRunDto,
  SyncScheduleDto,
  TriggerSyncDto,
  TriggerSyncResponseDto,
} from './dto/sync.dto.js';
import { SyncRunsService } from './sync-runs.service.js';
import { withQueueTimeout } from '../core/queue/queue-timeout.js';
import { SyncSchedulerService } from './sync-scheduler.service.js';
import { SyncTriggerService } from './sync-trigger.service.js';

@ApiTags('sync')
@ApiBearerAuth()
@Controller('v1/connections/:id')
export class SyncController {
  constructor(
    private readonly connections: ConnectionStore,
    private readonly trigger: SyncTriggerService,
    private readonly runs: SyncRunsService,
    private readonly scheduler: SyncSchedulerService,
  ) {}

  @Post('sync')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Request a sync; joins the queued or running one of the same connection',
  })
  @ApiAcceptedResponse({ type: TriggerSyncResponseDto })
  @ApiServiceUnavailableResponse({ description: 'Queue (Redis) unavailable: retry later' })
  async sync(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: TriggerSyncDto,
  ): Promise<TriggerSyncResponseDto> {
    const connection = await this.connections.get(id);
    if (connection.status !== 'active') {
      throw new ConflictException(
        `Connection is ${connection.status}; reconnect it before syncing`,
      );
    }
    return withQueueTimeout(this.trigger.trigger(id, body.mode ?? 'incremental', 'manual'));
  }

  @Get('sync-runs')
  @ApiOperation({ summary: 'Sync history of a connection, newest first (last 50)' })
  @ApiOkResponse({ type: [SyncRunDto] })
  async list(@Param('id', ParseUUIDPipe) id: string): Promise<SyncRunDto[]> {
    await this.connections.get(id);
    return this.runs.list(id);
  }

  @Put('sync-schedule')
  @ApiOperation({ summary: 'Override how often this connection syncs on schedule' })
  @ApiOkResponse({ type: SyncScheduleDto })
  @ApiServiceUnavailableResponse({ description: 'Queue (Redis) unavailable: retry later' })
  async schedule(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: SyncScheduleDto,
  ): Promise<SyncScheduleDto> {
    const connection = await this.connections.updateSettings(id, {
      syncIntervalMinutes: body.intervalMinutes,
    });
    if (connection.status === 'active') await withQueueTimeout(this.scheduler.schedule(connection));
    return { intervalMinutes: body.intervalMinutes };
  }
}
