import { getHealth } from './healthWorkloads';
import { empty, getProfile, getProfileRpc, listProfiles } from './profileWorkloads';
import {
  completeSession,
  completeSessionRpc,
  createSession,
  createSessionRpc,
  getProgramProgress,
  getProgramProgressRpc,
  listSessions,
  listSessionsRpc,
} from './sessionWorkloads';
import { weighted, type Workload } from './Workload';

/** 80 % reads, 20 % writes, on the service. */
const mixed: Workload = {
  name: 'Mixed',
  description: '40 % GetProfile, 20 % ListSessions, 20 % GetProgramProgress, 10 % CreateSession, 10 % CompleteSession',
  targets: {
    service: weighted([
      { weight: 40, factory: getProfileRpc },
      { weight: 20, factory: listSessionsRpc },
      { weight: 20, factory: getProgramProgressRpc },
      { weight: 10, factory: createSessionRpc },
      { weight: 10, factory: completeSessionRpc },
    ]),
  },
  writes: true,
};

/** Every workload the bench knows, in report order. */
export const WORKLOADS: readonly Workload[] = [
  getProfile,
  listSessions,
  getProgramProgress,
  createSession,
  completeSession,
  mixed,
  getHealth,
  empty,
  listProfiles,
];

export function findWorkload(name: string): Workload {
  const workload = WORKLOADS.find((w) => w.name === name);
  if (workload === undefined) throw new Error(`unknown workload "${name}"; known: ${WORKLOADS.map((w) => w.name).join(', ')}`);
  return workload;
}
