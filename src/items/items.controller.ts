import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ChangesFeedService } from './changes-feed.service.js';
import { ItemsPageDto } from './dto/item.dto.js';
import { ItemsFeedQueryDto } from './dto/items-feed-query.dto.js';

@ApiTags('items')
@ApiBearerAuth()
@Controller('v1/items')
export class ItemsController {
  constructor(private readonly feed: ChangesFeedService) {}

  @Get()
  @ApiOperation({
    summary: "Changes feed of a user's items",
    description:
      'Items in change order (change_seq ascending), deletions included as tombstones ' +
      '(`deletedAt` set). Page with `nextCursor` until `hasMore` is false, then keep polling ' +
      'with the last `nextCursor`: every change is delivered, in order, once per cursor position.',
  })
  @ApiOkResponse({ type: ItemsPageDto })
  @ApiBadRequestResponse({ description: 'Missing userId, bad kind, provider, limit or cursor.' })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong internal bearer token.' })
  list(@Query() query: ItemsFeedQueryDto): Promise<ItemsPageDto> {
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
