import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { IsReturnToUrl, NoNulCharacter } from '../../core/validation/input-limits.js';

/** Body of POST /v1/connections/:provider/authorize. */
export class AuthorizeDto {
  @ApiProperty({
    description: "The PDeck user the connection will belong to (PDeck's own id, opaque here).",
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
      'Where the browser goes after the callback, with ?connectionId= or ?error= appended. ' +
      'Its origin must be exactly one of RETURN_TO_ORIGINS. Without it the callback answers JSON.',
    maxLength: 2000,
    example: 'https://app.pdeck.example/settings/integrations',
  })
  @IsOptional()
  @IsReturnToUrl()
  returnTo?: string;
}

export class AuthorizeResponseDto {
  @ApiProperty({
    description: "The provider's consent page (after PROVIDER_ORIGINS); send the browser there.",
    example:
      'https://accounts.provider.example/authorize?response_type=code&client_id=pdeck-client-id' +
      '&redirect_uri=https%3A%2F%2Fintegrations.pdeck.example%2Fv1%2Foauth%2Fgoogle-calendar%2Fcallback' +
      '&scope=openid&state=EXAMPLE_STATE&code_challenge=EXAMPLE_CHALLENGE&code_challenge_method=S256',
  })
  authorizeUrl: string;
}

export class CallbackResponseDto {
  @ApiProperty({ format: 'uuid', example: '3f2b8c1e-5d4a-4e8b-9c61-0a7d2e4f9b13' })
  connectionId: string;

  @ApiProperty({
    description: 'One-time token for POST /v1/connections/{id}/confirm (10 minutes)',
    example: 'q3Jf0c1Zb9nWm2yX4uV8tR6sP1oL5kJ7hG3fD9aS2e0',
  })
  confirm: string;

  @ApiProperty({ example: 'google-calendar' })
  provider: string;

  @ApiProperty({ example: 'pending', enum: ['pending'] })
  status: string;
}
