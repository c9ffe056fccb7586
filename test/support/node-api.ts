import { NodeProcess } from './node-process';
import { sleep } from './wait';

/** HTTP helpers for tests that drive node processes. */

export async function getJson<T>(node: NodeProcess, path: string): Promise<T> {
  const response = await fetch(`${node.baseUrl}${path}`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${path} -> ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function postJson<T>(node: NodeProcess, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${node.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`POST ${path} -> ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

interface SelfView {
  id: string;
  leader: boolean;
  leaderId?: string;
}

/** Polls every node's own view until exactly one leads and all agree on it. */
export async function waitForSingleLeader(
  nodes: NodeProcess[],
  timeoutMs = 15_000,
): Promise<string> {
  let last = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const views = await Promise.all(
        nodes.map((node) => getJson<SelfView>(node, '/api/nodes/self')),
      );
      const leaders = views.filter((view) => view.leader);
      last = JSON.stringify(views);
      if (leaders.length === 1 && views.every((view) => view.leaderId === leaders[0].id)) {
        return leaders[0].id;
      }
    } catch (error) {
      last = String(error);
    }
    await sleep(50);
  }
  throw new Error(`no single agreed leader within ${timeoutMs} ms; last views: ${last}`);
}
