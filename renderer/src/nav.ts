/**
 * Navigation between the guided flow's steps: a hash route (#/hosts), which works the same
 * from file:// in Electron and from the web console, with no router dependency.
 */
import { onBeforeUnmount, ref } from 'vue';

export const STEPS = ['plan', 'hosts', 'mounts', 'tunnels', 'addresses', 'tasks', 'reports'] as const;
export type Step = (typeof STEPS)[number];
/** Steps with a real screen in this release. */
export const AVAILABLE_STEPS: ReadonlySet<Step> = new Set<Step>(['hosts']);
export const DEFAULT_STEP: Step = 'hosts';

function stepFromHash(hash: string): Step {
  const name = hash.replace(/^#\/?/, '');
  return (STEPS as readonly string[]).includes(name) ? (name as Step) : DEFAULT_STEP;
}

export function stepHref(step: Step): string {
  return `#/${step}`;
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
