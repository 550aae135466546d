import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** The filters of GET /admin/connections (a GET form): each checked, unknown ones refused (400). */
export class AdminConnectionsQuery {
  /** An integration id; checked against the registered integrations by the controller. */
  @IsOptional()
  @IsString()
  @Matches(/^([a-z0-9-]{1,40})?$/)
  provider?: string;

  /** A health state (checked by the controller). */
  @IsOptional()
  @IsString()
  @Matches(/^([a-z_]{1,20})?$/)
  health?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  user?: string;

  @IsOptional()
  @IsIn(['', 'yes', 'no'])
  openIssue?: '' | 'yes' | 'no';

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  page?: number;

  /** A confirmation after an action, chosen by code: nothing from the URL is echoed. */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z-]{0,30}$/)
  notice?: string;
}

export class AdminIssuesQuery {
  @IsOptional()
  @IsIn(['open', 'resolved'])
  status?: 'open' | 'resolved';

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-z-]{0,30}$/)
  notice?: string;
}

export class AdminNoticeQuery {
  @IsOptional()
  @IsString()
  @Matches(/^[a-z-]{0,30}$/)
  notice?: string;
}
