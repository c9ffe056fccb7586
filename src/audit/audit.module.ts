import { Module } from '@nestjs/common';
import { ElectionModule } from '../election/election.module';
import { AuditController } from './audit.controller';
import { AuditHooks } from './audit.hooks';
import { AuditRetentionService } from './audit-retention.service';
import { AuditService } from './audit.service';

/**
 * The audit log: Fastify hooks record every state-changing API call (AuditHooks →
 * AuditService, batched writes to `audit/`), GET /api/audit lists it (admin), and the
 * leader enforces its retention (AuditRetentionService).
 */
@Module({
  imports: [ElectionModule],
  controllers: [AuditController],
  providers: [AuditService, AuditHooks, AuditRetentionService],
  exports: [AuditService],
})
export class AuditModule {}
