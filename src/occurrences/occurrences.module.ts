import { Module } from '@nestjs/common';
import { OccurrencesController } from './occurrences.controller.js';
import { OccurrencesService } from './occurrences.service.js';

/**
 * Calendar occurrences (GET /v1/occurrences): the user's events between two instants, recurring
 * series expanded. Reads `items` only; writes nothing.
 */
@Module({
  controllers: [OccurrencesController],
  providers: [OccurrencesService],
})
export class OccurrencesModule {}
