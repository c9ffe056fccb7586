import { Module } from '@nestjs/common';
import { AssignmentMirror } from './assignment-mirror';

/** The node's one mirror of the workers' inboxes, shared by the worker gateway and dispatch. */
@Module({
  providers: [AssignmentMirror],
  exports: [AssignmentMirror],
})
export class AssignmentMirrorModule {}
