import { HistorySchemaError } from '../history.errors';
import { checkMigrationOrder, Migration, MIGRATIONS, pendingMigrations } from './migrations';

const step = (version: number): Migration => ({ version, name: `step ${version}`, sql: '' });

describe('migrations', () => {
  it('ships versions 1, 2, 3, ... in order', () => {
    expect(() => checkMigrationOrder(MIGRATIONS)).not.toThrow();
    expect(new Set(MIGRATIONS.map((m) => m.name)).size).toBe(MIGRATIONS.length);
  });

  it('refuses gaps, repeats and disorder', () => {
    expect(() => checkMigrationOrder([step(1), step(3)])).toThrow(/version 3; expected 2/);
    expect(() => checkMigrationOrder([step(1), step(1)])).toThrow(/expected 2/);
    expect(() => checkMigrationOrder([step(2), step(1)])).toThrow(/expected 1/);
  });

  it('answers what a database still needs, in order', () => {
    const all = [step(1), step(2), step(3)];
    expect(pendingMigrations([], all).map((m) => m.version)).toEqual([1, 2, 3]);
    expect(pendingMigrations([1], all).map((m) => m.version)).toEqual([2, 3]);
    expect(pendingMigrations([3, 1, 2], all)).toEqual([]);
  });

  it('refuses a database newer than the code, naming its version', () => {
    const run = () => pendingMigrations([1, 2, 3, 4, 5], [step(1), step(2), step(3)]);
    expect(run).toThrow(HistorySchemaError);
    expect(run).toThrow(/schema version 5, newer than this Forest knows \(up to 3\)/);
  });
});
