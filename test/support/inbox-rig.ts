import { CoordinationStore } from '@forest/store';
import { AssignmentMirror } from '../../src/assignments/assignment-mirror';
import { AssignmentInbox } from '../../src/worker-gateway/assignment-inbox.service';
import { WorkerRegistry } from '../../src/worker-gateway/worker-registry.service';

/** A registry for which every worker is live (the inbox only asks it `require`). */
export const liveWorkers = { require: () => Promise.resolve({}) } as unknown as WorkerRegistry;

/** An inbox over `store` with its own mirror of `assignments/`, loaded and watching. */
export async function startInbox(
  store: CoordinationStore,
): Promise<{ inbox: AssignmentInbox; mirror: AssignmentMirror }> {
  const mirror = new AssignmentMirror(store);
  await mirror.onApplicationBootstrap();
  const inbox = new AssignmentInbox(store, liveWorkers, mirror);
  inbox.onModuleInit();
  return { inbox, mirror };
}
