/** Plan types the console's pure modules share, all from the console contract. */
export type { DataAddress, MountSpec, NasType, PlanState, PlanTask, TaskOptions, Tunnel } from '../../../electron/contract/console.ts';
export type { Issue } from '../api/types.ts';
