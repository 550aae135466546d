import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { NoNulCharacter } from '../../core/validation/input-limits.js';

export class ConfirmConnectionDto {
  @ApiProperty({
    description:
      'The PDeck user your backend knows is signed in where the browser landed. Must be the ' +
      'user who started the connect flow.',
    example: 'user-42',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @NoNulCharacter('userId')
  userId: string;

  @ApiProperty({
    description:
      'The `confirm` query parameter of the redirect to returnTo (single use, 10 minutes)',
    example: 'q3Jf0c1Zb9nWm2yX4uV8tR6sP1oL5kJ7hG3fD9aS2e0',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token: string;
}
