/**
 * What every plan editor form shares: live schema errors for the fields the operator has
 * touched (or all of them after a submit), errors Ferry sends back mapped onto the fields or
 * listed by the plan item they name, a busy flag, a "Saved" note, and focus on the first field
 * to fix; the save-then-clear sequence of every editor and the removal of a list item.
 * Display logic only; the rules are the contract's schemas and Ferry's checks.
 */
import { computed, nextTick, ref, type Ref } from 'vue';
import type { z } from 'zod';
import { describeError, type Problem } from '../api/describe.ts';
import { ConsoleCallError } from '../api/types.ts';
import { fieldError, issuesByPath, locateIssue, savedIndex, splitIssues, withSaved, type LocatedIssue, type Section } from '../domain/plan-edit.ts';
import type { PlanState } from '../domain/plan-types.ts';

/** The plan sections whose items are keyed by name (mounts are keyed by tunnel + directory). */
export type NamedSection = 'tunnels' | 'addresses' | 'tasks';

/** What a save request adds to rename an item: `previousName` only when the name changed. */
export type Rename = { previousName?: string };

function renameOf(name: string, previousName: string | null): Rename {
  return previousName && previousName !== name ? { previousName } : {};
}

export interface SaveTarget {
  /** The plan as it would be after the save, to read Ferry's whole-plan issue paths. */
  next: PlanState;
  /** Index of the saved item in `next`. */
  index: number;
}

export function usePlanForm<S extends z.ZodType>(options: {
  schema: S;
  /** The current item as the contract would receive it. */
  value: () => unknown;
  /** Key of the item in the call's request ("tunnel", "mount", "address", "task"). */
  requestKey: string;
  section: Section;
  /** Fields whose schema error shows while typing, before the field loses focus. */
  live?: readonly string[];
  /** Extra field errors the schema cannot know (e.g. a name already taken). */
  extra?: () => Partial<Record<string, string>>;
  formEl: Ref<HTMLElement | null>;
  /** The plan as Ferry last answered, to place the issues of a refused save. */
  plan: () => PlanState;
}) {
  const touched = ref(new Set<string>());
  /** Fields edited since the form was (re)set: live fields show their error as soon as they change. */
  const dirty = ref(new Set<string>());
  const submitted = ref(false);
  const serverFields = ref<Record<string, string>>({});
  const others = ref<LocatedIssue[]>([]);
  const problem = ref<Problem | null>(null);
  const busy = ref(false);
  const done = ref<string | null>(null);

  const schemaErrors = computed<Record<string, string>>(() => {
    const parsed = options.schema.safeParse(options.value());
    const extra = Object.entries(options.extra?.() ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string');
    return { ...(parsed.success ? {} : issuesByPath(parsed.error.issues)), ...Object.fromEntries(extra) };
  });

  function shown(field: string): boolean {
    if (submitted.value || touched.value.has(field)) return true;
    return (options.live ?? []).includes(field) && dirty.value.has(field);
  }

  /**
   * The error to show on a field: the live schema error once it counts, else what Ferry said.
   * `exact` leaves out the errors of the field's parts ("options" without "options.mode").
   */
  function error(field: string, exact = false): string | undefined {
    const find = (errors: Record<string, string>) => (exact ? errors[field] : fieldError(errors, field));
    const live = shown(field) ? find(schemaErrors.value) : undefined;
    return live ?? find(serverFields.value);
  }

  /** Call on every edit of a field: its old server error no longer applies. */
  function edited(field: string): void {
    dirty.value = new Set(dirty.value).add(field);
    done.value = null;
    problem.value = null;
    if (Object.keys(serverFields.value).some((p) => p === field || p.startsWith(`${field}.`))) {
      serverFields.value = Object.fromEntries(Object.entries(serverFields.value).filter(([p]) => p !== field && !p.startsWith(`${field}.`)));
    }
  }

  /** focusout on the form: fields carry data-field="…". */
  function onFocusOut(event: FocusEvent): void {
    const field = (event.target as HTMLElement | null)?.closest?.('[data-field]')?.getAttribute('data-field');
    if (field && !touched.value.has(field)) touched.value = new Set(touched.value).add(field);
  }

  function reset(): void {
    touched.value = new Set();
    dirty.value = new Set();
    submitted.value = false;
    serverFields.value = {};
    others.value = [];
    problem.value = null;
  }

  async function focusFirstError(): Promise<void> {
    await nextTick();
    options.formEl.value?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }

  /**
   * Runs a save. Returns true when Ferry accepted it. On refusal the errors land on the fields
   * (schema and the saved item's own consistency problems) or in the form's problem list.
   */
  async function submit(save: () => Promise<unknown>, target: () => SaveTarget, savedName: string): Promise<boolean> {
    submitted.value = true;
    done.value = null;
    problem.value = null;
    others.value = [];
    serverFields.value = {};
    if (Object.keys(schemaErrors.value).length > 0) {
      await focusFirstError();
      return false;
    }
    busy.value = true;
    try {
      await save();
      reset();
      done.value = savedName;
      return true;
    } catch (err) {
      if (err instanceof ConsoleCallError && err.issues.length > 0) {
        const { next, index } = target();
        const split = splitIssues(err.issues, options.requestKey, next, options.section, index);
        serverFields.value = split.fields;
        others.value = split.others;
        // A refusal with no field of this form to point at still needs its reason on screen.
        problem.value = split.others.length > 0 || Object.keys(split.fields).length === 0 ? describeError(err) : null;
      } else {
        problem.value = describeError(err);
      }
      await focusFirstError();
      return false;
    } finally {
      busy.value = false;
    }
  }

  /** Shows "Saved …" once the form's reset has settled (its watchers would otherwise clear the note). */
  async function announce(name: string): Promise<void> {
    await nextTick();
    done.value = name;
  }

  /**
   * Runs a save; once Ferry accepted it, empties the form (`clear`, the view's own reset) and
   * shows "Saved <label>". Returns true when Ferry accepted it.
   */
  async function saveThenClear(save: () => Promise<unknown>, target: () => SaveTarget, label: string, clear: () => void): Promise<boolean> {
    const ok = await submit(save, target, label);
    if (ok) {
      clear();
      await announce(label);
    }
    return ok;
  }

  /**
   * Saves a named item (tunnel, data address, task), as an edit of `previousName` when that is
   * set: `save` sends the request with `rename` added, `item` is the item as the plan will hold
   * it. Then as saveThenClear.
   */
  function saveNamed<S extends NamedSection>(
    section: S,
    item: PlanState[S][number],
    previousName: string | null,
    save: (rename: Rename) => Promise<unknown>,
    clear: () => void,
  ): Promise<boolean> {
    return saveThenClear(
      () => save(renameOf(item.name, previousName)),
      () => {
        const next = withSaved(options.plan(), section, item, previousName ?? undefined);
        return { next, index: savedIndex(next, section, item.name) };
      },
      item.name,
      clear,
    );
  }

  const hasErrors = computed(() => Object.keys(serverFields.value).length > 0 || (submitted.value && Object.keys(schemaErrors.value).length > 0));

  return { error, edited, onFocusOut, reset, saveThenClear, saveNamed, busy, done, problem, others, hasErrors, schemaErrors };
}

/**
 * Removing a plan item from a list: which one is on its way, and the reason when Ferry
 * refuses (e.g. a tunnel still used by a data address), with each problem named by its item.
 */
export function useRemoval(plan: () => PlanState) {
  const removing = ref<string | null>(null);
  const problem = ref<Problem | null>(null);
  const others = ref<LocatedIssue[]>([]);
  const removed = ref<string | null>(null);

  async function remove(label: string, action: () => Promise<unknown>, next: () => PlanState): Promise<boolean> {
    removing.value = label;
    problem.value = null;
    others.value = [];
    removed.value = null;
    try {
      await action();
      removed.value = label;
      return true;
    } catch (err) {
      problem.value = describeError(err);
      others.value = err instanceof ConsoleCallError ? err.issues.map((issue) => locateIssue(next(), issue)) : [];
      return false;
    } finally {
      removing.value = null;
    }
  }

  /** Removes the item `name` of a named section; the plan without it places Ferry's issues. */
  function removeNamed(section: NamedSection, name: string, action: () => Promise<unknown>): Promise<boolean> {
    return remove(name, action, () => {
      const state = plan();
      return { ...state, [section]: (state[section] as Array<{ name: string }>).filter((x) => x.name !== name) };
    });
  }

  function clear(): void {
    problem.value = null;
    others.value = [];
    removed.value = null;
  }

  return { removing, problem, others, removed, remove, removeNamed, clear };
}

/** A list's removal state, as PlanListCard shows it. */
export type Removal = ReturnType<typeof useRemoval>;
