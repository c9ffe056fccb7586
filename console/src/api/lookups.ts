import { api, call } from './client';
import type { Group, Plugins } from './client';
import { useAsync } from '../components/useAsync';

/** Every group the caller may see (all pages), by name. */
export async function allGroups(): Promise<Group[]> {
  const groups: Group[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(api.GET('/api/groups', { params: { query: { limit: 500, cursor } } }));
    groups.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return groups;
}

/** Group names for selects; empty while loading. */
export function useGroupNames(): string[] {
  const { data } = useAsync(allGroups, []);
  return data?.map((group) => group.name) ?? [];
}

/** The loaded plugins (strategies and channels the node offers). */
export function usePlugins(): Plugins | undefined {
  return useAsync(() => call(api.GET('/api/plugins')), []).data;
}

/** Names of the provisions of one kind: `dispatch-strategy` or `alert-channel`. */
export function provided(
  plugins: Plugins | undefined,
  kind: 'dispatch-strategy' | 'alert-channel',
): string[] {
  return (plugins?.plugins ?? [])
    .flatMap((plugin) => plugin.provides)
    .filter((provision) => provision.kind === kind)
    .map((provision) => provision.name)
    .sort();
}
