import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { KeySegmentPipe } from '../common/key-segment.pipe';
import { pageOf, sortedByKey } from '../common/paging';
import { actorOf, mayRevealData, Principal, RequireAccess } from './access';
import {
  CreatedTokenDto,
  CreateTokenDto,
  ListTokensQueryDto,
  TokenDto,
  TokenPageDto,
  TokenSelfDto,
} from './dto/token.dto';
import { CurrentPrincipal } from './principal.decorator';
import { TokenService } from './token.service';

@ApiTags('tokens')
@Controller('api/tokens')
export class TokensController {
  constructor(private readonly tokens: TokenService) {}

  @Post()
  @RequireAccess('admin')
  @ApiOperation({
    summary: 'Create an API token (the token is in this answer only)',
    description:
      'The answer carries `token`, to send as `Authorization: Bearer <token>`. It is shown ' +
      'once: the node stores only its SHA-256. A token limited to groups creates only tokens ' +
      'limited to some of its groups.',
  })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiErrors(400, { status: 403, description: 'GROUP_OUT_OF_SCOPE' })
  create(
    @Body() dto: CreateTokenDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreatedTokenDto> {
    return this.tokens.create(dto, principal);
  }

  @Get()
  @RequireAccess('admin')
  @ApiOperation({
    summary: 'List API tokens (never their secrets), with their last use, oldest first',
  })
  @ApiOkResponse({ type: TokenPageDto })
  @ApiErrors(400)
  async list(
    @Query() query: ListTokensQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<TokenPageDto> {
    const tokens = await this.tokens.list(principal);
    return pageOf(sortedByKey(tokens, tokenSortKey), tokenSortKey, query, 'tokens');
  }

  @Get('self')
  @RequireAccess('read')
  @ApiOperation({
    summary: 'The token this request carries: its name, role and group scope',
    description:
      'What a client (the web console) shows as signed in and uses to offer only the actions ' +
      'the role may take. With FOREST_AUTH=off: `auth: false` and role `admin`.',
  })
  @ApiOkResponse({ type: TokenSelfDto })
  self(@CurrentPrincipal() principal: Principal): TokenSelfDto {
    if (principal.kind === 'anonymous') {
      return {
        auth: false,
        name: actorOf(principal),
        role: 'admin',
        groups: null,
        revealData: true,
      };
    }
    return {
      auth: true,
      id: principal.tokenId,
      name: principal.name,
      role: principal.role,
      groups: principal.groups ? [...principal.groups] : null,
      revealData: mayRevealData(principal),
    };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireAccess('admin')
  @ApiOperation({
    summary: 'Revoke an API token',
    description:
      'The token stops working at once on the node that answers, and within a few seconds ' +
      '(the token cache) on every other node.',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(400, { status: 404, description: 'TOKEN_NOT_FOUND' })
  async revoke(
    @Param('id', new KeySegmentPipe('id')) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.tokens.revoke(id, principal);
  }
}

/** The order TokenService.list sorts by (creation time, then id), as one comparable key. */
function tokenSortKey(token: TokenDto): string {
  return `${token.createdAt}|${token.id}`;
}
