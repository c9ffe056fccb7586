import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
} from 'class-validator';
import { IsKeySegment } from '../../common/key-segment.decorator';
import { PageQueryDto } from '../../common/paging';
import { Role, ROLES } from '../access';

/** Body of POST /api/tokens. */
export class CreateTokenDto {
  @ApiProperty({
    example: 'ci-deployer',
    description: 'A label for people and the audit log: 1-64 characters of A-Z a-z 0-9 . _ @ -',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9._@-]{1,64}$/, {
    message: 'name must be 1-64 characters of A-Z a-z 0-9 . _ @ -',
  })
  name: string;

  @ApiProperty({
    enum: ROLES,
    description:
      'admin: everything, tokens included; operator: read, trigger, pause, resume, cancel, ' +
      'job and group writes; viewer: read (params and outputs redacted unless revealData); ' +
      'worker: only registering workers of its groups',
  })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({
    type: [String],
    example: ['billing'],
    description:
      'Limit the token to these groups (absent: every group). A token limited to groups ' +
      'creates only tokens limited to some of them.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsKeySegment('groups', { each: true })
  groups?: string[];

  @ApiPropertyOptional({
    default: false,
    description: 'For a viewer: show params and outputs (other roles always see them)',
  })
  @IsOptional()
  @IsBoolean()
  revealData?: boolean;
}

export class TokenDto {
  @ApiProperty({ example: 'k3j9x0c2mq7a' })
  id: string;
  @ApiProperty({ example: 'ci-deployer' })
  name: string;
  @ApiProperty({ enum: ROLES })
  role: Role;
  @ApiProperty({
    type: [String],
    nullable: true,
    example: ['billing'],
    description: 'The groups it is limited to; null: every group',
  })
  groups: string[] | null;
  @ApiProperty({ description: 'A viewer that sees params and outputs' })
  revealData: boolean;
  @ApiProperty({ example: '2026-11-24T01:59:30.000Z' })
  createdAt: string;
  @ApiProperty({ example: 'admin', description: 'Name of the token that created it' })
  createdBy: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-24T02:10:00.000Z',
    description: 'Last successful use (updated at most once a minute); null: never used',
  })
  lastUsedAt: string | null;
}

export class ListTokensQueryDto extends PageQueryDto {}

export class TokenPageDto {
  @ApiProperty({ type: [TokenDto] })
  items: TokenDto[];
  @ApiPropertyOptional({ description: 'Present when more tokens follow: pass it as `cursor`' })
  next?: string;
}

export class CreatedTokenDto {
  @ApiProperty({ example: 'k3j9x0c2mq7a' })
  id: string;
  @ApiProperty({ example: 'ci-deployer' })
  name: string;
  @ApiProperty({ enum: ROLES })
  role: Role;
  @ApiProperty({ type: [String], nullable: true, example: ['billing'] })
  groups: string[] | null;
  @ApiProperty()
  revealData: boolean;
  @ApiProperty({
    example: 'fst_k3j9x0c2mq7a_bC9…',
    description:
      'The token: send it as `Authorization: Bearer <token>`. Shown only in this answer; ' +
      'the node keeps only its SHA-256.',
  })
  token: string;
  @ApiProperty({ example: '2026-11-24T01:59:30.000Z' })
  createdAt: string;
  @ApiProperty({ example: 'admin' })
  createdBy: string;
}

/** GET /api/tokens/self: who the caller is (the web console shows it and hides what it may not do). */
export class TokenSelfDto {
  @ApiProperty({ description: 'Whether the node requires tokens (FOREST_AUTH=on)' })
  auth: boolean;
  @ApiPropertyOptional({
    example: 'k3j9x0c2mq7a',
    description: 'The token id (absent with auth off)',
  })
  id?: string;
  @ApiProperty({ example: 'ci-deployer', description: 'The token name, or `anonymous (auth off)`' })
  name: string;
  @ApiProperty({
    enum: ROLES,
    description: 'The token role; with auth off every caller may do everything: `admin`',
  })
  role: Role;
  @ApiProperty({
    type: [String],
    nullable: true,
    example: ['billing'],
    description: 'The groups it is limited to; null: every group',
  })
  groups: string[] | null;
  @ApiProperty({ description: 'Whether params and outputs are shown to it unredacted' })
  revealData: boolean;
}
