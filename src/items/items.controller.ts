import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { MergedEntriesPageDto } from '../links/merged/dto/merged-entry.dto.js';
import { MergedViewService } from '../links/merged/merged-view.service.js';
import { ChangesFeedService } from './changes-feed.service.js';
import { ItemsPageDto } from './dto/item.dto.js';
import { ItemsFeedQueryDto } from './dto/items-feed-query.dto.js';

@ApiTags('items')
@ApiBearerAuth()
@Controller('v1/items')
export class ItemsController {
  constructor(
    private readonly feed: ChangesFeedService,
    private readonly merged: MergedViewService,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Changes feed of a user's items",
    description:
      'Items in change order (change_seq ascending), deletions included as tombstones ' +
      '(`deletedAt` set). Page with `nextCursor` until `hasMore` is false, then keep polling ' +
      'with the last `nextCursor`: every change is delivered, in order, once per cursor position. ' +
      'With `merged=true` the same paging reads the merged view instead: one entry per ' +
      'real-world thing across sources, each field with its source and the reason ' +
      '(MergedEntriesPageDto; docs/cross-source.md). Its cursors are positions in the merged ' +
      'feed, not in the items feed.',
  })
  @ApiExtraModels(ItemsPageDto, MergedEntriesPageDto)
  @ApiOkResponse({
    description: 'ItemsPageDto; MergedEntriesPageDto with merged=true.',
    schema: {
      oneOf: [{ $ref: getSchemaPath(ItemsPageDto) }, { $ref: getSchemaPath(MergedEntriesPageDto) }],
    },
  })
  @ApiBadRequestResponse({
    description:
      'Missing userId, bad kind, provider, limit, cursor or merged, or merged=true with ' +
      'provider, kind or includeRaw=true.',
  })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong internal bearer token.' })
  list(@Query() query: ItemsFeedQueryDto): Promise<ItemsPageDto | MergedEntriesPageDto> {
    if (query.merged === 'true') {
      return this.merged.read({ userId: query.userId, cursor: query.cursor, limit: query.limit });
    }
    return this.feed.read({
      userId: query.userId,
      provider: query.provider,
      kind: query.kind,
      cursor: query.cursor,
      limit: query.limit,
      includeRaw: query.includeRaw === 'true',
    });
  }
}
