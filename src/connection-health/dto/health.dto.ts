import { ApiProperty } from '@nestjs/swagger';
import { type ConnectionHealth, HEALTH_STATES, type HealthState } from '../health.js';

/** A connection's health in API answers (derived; see docs/operations.md). */
export class ConnectionHealthDto implements ConnectionHealth {
  @ApiProperty({ enum: HEALTH_STATES, example: 'late' })
  state: HealthState;

  @ApiProperty({
    description: 'Why, in plain words',
    example: 'No successful sync for 45 minutes (it syncs every 15 minutes).',
  })
  reason: string;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When this state began (the last success, the first failure of a streak, ...)',
    example: '2026-11-28T08:15:00.000Z',
  })
  since: string | null;
}
