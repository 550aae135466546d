import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { OccurrencesPageDto } from './dto/occurrence.dto.js';
import { instantMs, MAX_WINDOW_DAYS, OccurrencesQueryDto } from './dto/occurrences-query.dto.js';
import { OccurrencesService } from './occurrences.service.js';

@ApiTags('occurrences')
@ApiBearerAuth()
@Controller('v1/occurrences')
export class OccurrencesController {
  constructor(private readonly occurrences: OccurrencesService) {}

  @Get()
  @ApiOperation({
    summary: "What is on a user's calendar between two instants",
    description:
      'Every event occurrence that overlaps [from, to): single events and each occurrence of a ' +
      "recurring series, expanded in the series' own time zone, with moved and cancelled " +
      'instances and EXDATEs applied. All-day occurrences carry dates. Ordered by start, then ' +
      `itemId; page with nextCursor. The window may span at most ${MAX_WINDOW_DAYS} days. ` +
      'Series that cannot be expanded are listed in `skipped`. See docs/occurrences.md.',
  })
  @ApiOkResponse({ type: OccurrencesPageDto })
  @ApiBadRequestResponse({
    description:
      'Missing userId; from or to not an ISO 8601 instant; to not after from or more than ' +
      `${MAX_WINDOW_DAYS} days later; bad limit, connectionId or cursor.`,
  })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong internal bearer token.' })
  list(@Query() query: OccurrencesQueryDto): Promise<OccurrencesPageDto> {
    return this.occurrences.list({
      userId: query.userId,
      from: instantMs(query.from),
      to: instantMs(query.to),
      connectionId: query.connectionId,
      cursor: query.cursor,
      limit: query.limit,
    });
  }
}
