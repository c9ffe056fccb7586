import { ApiProperty } from '@nestjs/swagger';

export class NodeDto {
  @ApiProperty({ example: 'node-1', description: 'FOREST_NODE_ID of the node' })
  id: string;

  @ApiProperty({ example: 'http://10.0.0.5:2856', description: 'Advertised HTTP address' })
  address: string;

  @ApiProperty({ example: '0.1.0' })
  version: string;

  @ApiProperty({
    example: '2026-11-23T22:50:00.000Z',
    description: 'When the node process started',
  })
  startedAt: string;

  @ApiProperty({ example: 93_000, description: 'Milliseconds since startedAt, as of this answer' })
  uptimeMs: number;

  @ApiProperty({ description: 'Whether this node is the current leader' })
  leader: boolean;
}

export class LeaderDto extends NodeDto {
  @ApiProperty({
    example: 4711,
    description: "The leader's fencing token: the create revision of its candidate key",
  })
  fencingToken: number;
}

export class SelfDto {
  @ApiProperty({ example: 'node-1' })
  id: string;

  @ApiProperty({ description: 'Whether this node believes it leads (and holds a valid token)' })
  leader: boolean;

  @ApiProperty({
    required: false,
    example: 'node-2',
    description: 'The leader as this node sees it',
  })
  leaderId?: string;

  @ApiProperty({
    required: false,
    example: 4711,
    description: "This node's fencing token while it leads",
  })
  fencingToken?: number;
}
