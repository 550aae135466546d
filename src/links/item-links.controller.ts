import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import {
  CreateItemLinkDto,
  DeleteItemLinkQueryDto,
  ItemLinkDto,
  ItemLinksPageDto,
  ItemLinksQueryDto,
} from './dto/item-link.dto.js';
import { ItemLinksService } from './item-links.service.js';

@ApiTags('item links')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing or wrong internal bearer token.' })
@Controller('v1/item-links')
export class ItemLinksController {
  constructor(private readonly links: ItemLinksService) {}

  @Get()
  @ApiOperation({
    summary: "A user's links between items of different sources",
    description:
      'Each link joins two items that are one real-world thing, with its evidence (the keys ' +
      'both items share and the role each had), a reason in words, a confidence and its ' +
      'origin (detected or manual). docs/cross-source.md describes the rules.',
  })
  @ApiOkResponse({ type: ItemLinksPageDto })
  @ApiBadRequestResponse({ description: 'Missing userId, bad itemId, limit or cursor.' })
  list(@Query() query: ItemLinksQueryDto): Promise<ItemLinksPageDto> {
    return this.links.list(query);
  }

  @Post()
  @ApiOperation({
    summary: 'Join two items by hand',
    description:
      'Links the two items as one thing and regroups their merged entries at once. Clears a ' +
      'rejection of the pair (an earlier split). When the pair is already linked the existing ' +
      'link is returned with 200 (a detected link becomes manual, so detection can no longer ' +
      'remove it); a new link answers 201.',
  })
  @ApiCreatedResponse({ type: ItemLinkDto, description: 'Linked.' })
  @ApiOkResponse({ type: ItemLinkDto, description: 'Already linked: the link, now manual.' })
  @ApiBadRequestResponse({ description: 'Missing or malformed field, or the same item twice.' })
  @ApiNotFoundResponse({ description: 'An item does not exist, is deleted, or is not the user’s.' })
  async create(
    @Body() body: CreateItemLinkDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ItemLinkDto> {
    const { link, created } = await this.links.join(body);
    res.status(created ? 201 : 200);
    return link;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Split a link',
    description:
      'Removes the link and records the pair as "not the same": detection never links it ' +
      'again (a manual join of the pair lifts that). Merged entries are regrouped at once.',
  })
  @ApiNoContentResponse({ description: 'Split.' })
  @ApiBadRequestResponse({ description: 'id is not a UUID, or userId is missing.' })
  @ApiNotFoundResponse({ description: 'No such link of this user.' })
  remove(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: DeleteItemLinkQueryDto,
  ): Promise<void> {
    return this.links.split(query.userId, id);
  }
}
