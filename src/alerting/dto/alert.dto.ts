import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CLUSTER_ALERT_EVENTS, ALERT_EVENTS } from '@forest/protocol';
import { PageQueryDto } from '../../common/paging';

export class AlertJobDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() group: string;
}

export class AlertExecutionDto {
  @ApiProperty() id: string;
  @ApiProperty() status: string;
  @ApiProperty() attempt: number;
  @ApiProperty() scheduledAt: string;
  @ApiPropertyOptional() worker?: string;
  @ApiPropertyOptional() error?: string;
}

export class AlertWorkerDto {
  @ApiProperty() id: string;
  @ApiProperty() group: string;
  @ApiProperty() host: string;
}

export class AlertSuppressedDto {
  @ApiProperty({ description: 'Repeats held back and summarised by this alert' })
  count: number;
  @ApiProperty() since: string;
}

export class AlertDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: [...ALERT_EVENTS, ...CLUSTER_ALERT_EVENTS] })
  event: string;
  @ApiProperty({ enum: ['critical', 'warning', 'info'] })
  severity: string;
  @ApiProperty() at: string;
  @ApiProperty() node: string;
  @ApiProperty() message: string;
  @ApiPropertyOptional({ type: AlertJobDto }) job?: AlertJobDto;
  @ApiPropertyOptional({ type: AlertExecutionDto }) execution?: AlertExecutionDto;
  @ApiPropertyOptional({ type: AlertWorkerDto }) worker?: AlertWorkerDto;
  @ApiPropertyOptional({ type: AlertSuppressedDto }) suppressed?: AlertSuppressedDto;
}

export class AlertDeliveryDto {
  @ApiProperty({ enum: ['delivered', 'failed'] })
  status: string;
  @ApiPropertyOptional() detail?: string;
  @ApiPropertyOptional() error?: string;
}

export class ChannelDeliveryDto {
  @ApiProperty() channel: string;
  @ApiProperty({ type: AlertDeliveryDto }) delivery: AlertDeliveryDto;
}

export class RecentAlertDto {
  @ApiProperty({ type: AlertDto }) alert: AlertDto;
  @ApiProperty({ type: [ChannelDeliveryDto], description: 'Outcome per channel so far' })
  deliveries: ChannelDeliveryDto[];
}

export class ListAlertsQueryDto extends PageQueryDto {}

export class AlertPageDto {
  @ApiProperty({ type: [RecentAlertDto] })
  items: RecentAlertDto[];
  @ApiPropertyOptional({ description: 'Present when older alerts follow: pass it as `cursor`' })
  next?: string;
}
