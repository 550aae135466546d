import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  IsString,
  Length,
  MaxLength,
} from 'class-validator';
import { IsReturnToUrl, NoNulCharacter } from '../../core/validation/input-limits.js';

/** Body of POST /v1/connect-sessions. */
export class CreateConnectSessionDto {
  @ApiProperty({
    description:
      'The PDeck user the page is for: it shows and acts on this user’s connections only.',
    minLength: 1,
    maxLength: 200,
    example: 'user-42',
  })
  @IsString()
  @Length(1, 200)
  @NoNulCharacter('userId')
  userId: string;

  @ApiPropertyOptional({
    description:
      'Integrations the page offers (enabled integration ids); without it, every enabled one.',
    type: [String],
    example: ['google-calendar', 'jira'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(40, { each: true })
  providers?: string[];

  @ApiPropertyOptional({
    description:
      'The PDeck page that opened the Connect UI. Its origin must be exactly one of ' +
      'RETURN_TO_ORIGINS; results of connecting are posted to that origin only (or, without a ' +
      'window opener, the browser goes to returnTo?connectionId=&confirm=). Without it the page ' +
      'can manage connections but not connect new ones.',
    maxLength: 2000,
    example: 'https://app.pdeck.example/settings/integrations',
  })
  @IsOptional()
  @IsReturnToUrl()
  returnTo?: string;
}

export class ConnectSessionResponseDto {
  @ApiProperty({
    description:
      'Open this in the user’s browser (a popup is recommended). Works once, for 30 minutes.',
    example:
      'https://integrations.pdeck.example/connect/session?token=q3Jf0c1Zb9nWm2yX4uV8tR6sP1oL5kJ7hG3fD9aS2e0',
  })
  url: string;

  @ApiProperty({ format: 'date-time', example: '2026-12-06T05:00:00.000Z' })
  expiresAt: string;
}
