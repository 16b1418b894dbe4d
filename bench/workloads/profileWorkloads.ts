import { Role } from '../../src/generated/coaching/v1/profile';
import { EMPTY_METHOD_PATH, EMPTY_RESPONSE } from '../baseline/emptyService';
import type { LoadContext } from '../loadgen/LoadContext';
import { GET_PROFILE_SQL, LIST_PROFILES_SQL } from '../sql';
import { benchId } from '../volume';
import { rawQuery } from './rawQuery';
import type { OperationFactory, Workload } from './Workload';

const randomProfile = (context: LoadContext): string => benchId('profile', context.random(context.spec.volume.profiles));

export const getProfileRpc: OperationFactory = (context) => {
  const client = context.coaching();
  const method = client.getProfile.bind(client);
  return () => context.unary(method, { id: randomProfile(context) });
};

const listProfilesRpc: OperationFactory = (context) => {
  const client = context.coaching();
  const method = client.listProfiles.bind(client);
  return () => context.unary(method, { pageSize: 50, pageToken: '', role: Role.ROLE_PARTICIPANT });
};

const getProfileValues = (context: LoadContext): unknown[] => [randomProfile(context)];
const listProfilesValues = (): unknown[] => ['PARTICIPANT', 51];

export const getProfile: Workload = {
  name: 'GetProfile',
  description: 'primary-key read of a random profile',
  targets: {
    service: getProfileRpc,
    bare: getProfileRpc,
    'raw-pg': rawQuery('get_profile', GET_PROFILE_SQL, getProfileValues, false),
    'raw-pg-prepared': rawQuery('get_profile', GET_PROFILE_SQL, getProfileValues, true),
  },
};

export const listProfiles: Workload = {
  name: 'ListProfiles',
  description: 'first page of 50 participants (role filter), oldest first; the stand-in for ListSessions before it existed',
  defaultRun: false,
  targets: {
    service: listProfilesRpc,
    bare: listProfilesRpc,
    'raw-pg': rawQuery('list_profiles', LIST_PROFILES_SQL, listProfilesValues, false),
    'raw-pg-prepared': rawQuery('list_profiles', LIST_PROFILES_SQL, listProfilesValues, true),
  },
};

export const empty: Workload = {
  name: 'Empty',
  description: 'empty request, empty response, no (de)serialisation: the ceiling of grpc-js',
  targets: {
    bare: (context) => {
      const client = context.generic();
      const identity = (value: Buffer): Buffer => value;
      return () =>
        new Promise((resolve, reject) => {
          client.makeUnaryRequest(EMPTY_METHOD_PATH, identity, identity, EMPTY_RESPONSE, context.callOptions(), (error, response) =>
            error ? reject(error) : resolve(response),
          );
        });
    },
  },
};
