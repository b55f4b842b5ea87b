/**
 * Navigation between the guided flow's steps: a hash route (#/hosts), which works the same
 * from file:// in Electron and from the web console, with no router dependency.
 *
 * The order follows what each step needs: tunnels group the hosts, a mount spec and a data
 * address belong to a tunnel, and a task joins two data addresses.
 */
import { onBeforeUnmount, ref } from 'vue';

export const STEPS = ['plan', 'hosts', 'tunnels', 'mounts', 'addresses', 'tasks', 'runs', 'plan-file', 'reports'] as const;
export type Step = (typeof STEPS)[number];
/** Steps with a real screen in this release. */
export const AVAILABLE_STEPS: ReadonlySet<Step> = new Set<Step>(['plan', 'hosts', 'tunnels', 'mounts', 'addresses', 'tasks', 'runs', 'plan-file', 'reports']);
export const DEFAULT_STEP: Step = 'hosts';

/** The step of a hash: its first segment ("#/reports/abc" is the Reports step); unknown ones give the default step. */
export function stepFromHash(hash: string): Step {
  const name = hash.replace(/^#\/?/, '').split('/')[0] ?? '';
  return (STEPS as readonly string[]).includes(name) ? (name as Step) : DEFAULT_STEP;
}

/** What follows the step in the hash ("#/reports/abc" -> "abc"), decoded; null when nothing or not decodable. */
export function stepDetailFromHash(hash: string): string | null {
  const rest = hash.replace(/^#\/?/, '').split('/').slice(1).join('/');
  if (rest === '') return null;
  try {
    return decodeURIComponent(rest);
  } catch {
    return null;
  }
}

export function stepHref(step: Step, detail?: string): string {
  return detail === undefined ? `#/${step}` : `#/${step}/${encodeURIComponent(detail)}`;
}

/** The available step after `step` in the guided flow, if any ("Next: Tunnels"). */
export function nextStep(step: Step): Step | null {
  const i = STEPS.indexOf(step);
  return STEPS.slice(i + 1).find((s) => AVAILABLE_STEPS.has(s)) ?? null;
}

export function useCurrentStep() {
  const step = ref<Step>(stepFromHash(window.location.hash));
  const onHash = () => {
    step.value = stepFromHash(window.location.hash);
  };
  window.addEventListener('hashchange', onHash);
  onBeforeUnmount(() => window.removeEventListener('hashchange', onHash));
  return step;
}

/** The hash's detail part (e.g. the open report's id), kept current. */
export function useStepDetail() {
  const detail = ref<string | null>(stepDetailFromHash(window.location.hash));
  const onHash = () => {
    detail.value = stepDetailFromHash(window.location.hash);
  };
  window.addEventListener('hashchange', onHash);
  onBeforeUnmount(() => window.removeEventListener('hashchange', onHash));
  return detail;
}
