import { Module } from '@nestjs/common';
import { EventHub } from './event-hub.service';
import { EventsController } from './events.controller';

/** GET /api/events: live execution, node and worker changes as server-sent events. */
@Module({
  controllers: [EventsController],
  providers: [EventHub],
  exports: [EventHub],
})
export class EventsModule {}
