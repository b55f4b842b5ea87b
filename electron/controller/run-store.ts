/**
 * The runs Ferry started, persisted in `<data-dir>/runs.json` (atomic, validated on load: a corrupt
 * file stops Ferry with its name, never resets). Each record keeps the plan as it was when the run
 * started, so reattaching after a restart addresses the same hosts and the same task id even when
 * the plan was edited since. Serialises writers; holds no secrets.
 */
import path from 'node:path';
import { z } from 'zod';
import { Plan } from '../contract/plan.ts';
import { Run } from '../contract/task-runs.ts';
import { JsonStore } from './store/json-store.ts';

export const RunRecord = Run.extend({
  plan: Plan,
  /** The task was created on its coordinator: reattaching must never start a new run of it. */
  created: z.boolean().default(false),
});
export type RunRecord = z.infer<typeof RunRecord>;

const RunsFile = z.object({ version: z.literal(1), runs: z.array(RunRecord) });

/** Finished runs kept in the list (the oldest finished ones are dropped first; reports stay). */
export const MAX_KEPT_RUNS = 200;

export class RunStore {
  private readonly store: JsonStore<typeof RunsFile>;

  constructor(dataDir: string) {
    this.store = new JsonStore(path.join(dataDir, 'runs.json'), RunsFile, () => ({ version: 1 as const, runs: [] }));
  }

  async list(): Promise<RunRecord[]> {
    return (await this.store.load()).runs;
  }

  async find(id: string): Promise<RunRecord | undefined> {
    return (await this.list()).find((r) => r.id === id);
  }

  /** Adds or replaces the record with this id. */
  async put(record: RunRecord): Promise<void> {
    await this.store.update((file) => {
      const others = file.runs.filter((r) => r.id !== record.id);
      const runs = [...others, record];
      while (runs.length > MAX_KEPT_RUNS) {
        const oldestFinished = runs.findIndex((r) => r.endedAt !== null);
        if (oldestFinished < 0) break;
        runs.splice(oldestFinished, 1);
      }
      return { ...file, runs };
    });
  }
}

/** The record as the console sees it (without its plan). */
export function publicRun(record: RunRecord): Run {
  const { plan: _plan, created: _created, ...run } = record;
  return run;
}
