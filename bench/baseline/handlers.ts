import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Pool } from 'pg';
import type {
  CoachingServiceServer,
  GetProfileRequest,
  GetProfileResponse,
  ListProfilesRequest,
  ListProfilesResponse,
} from '../../src/generated/coaching/v1/coaching_service';
import { Role, type Profile } from '../../src/generated/coaching/v1/profile';
import { GET_PROFILE_SQL, LIST_PROFILES_SQL } from '../sql';
import { timestampOf } from '../../src/grpc/timestamps';

interface ProfileRow {
  id: string;
  role: 'COACH' | 'PARTICIPANT';
  email: string;
  display_name: string;
  timezone: string;
  bio: string;
  create_time: Date;
  update_time: Date;
  version: number;
}

const toProfile = (row: ProfileRow): Profile => ({
  id: row.id,
  role: row.role === 'COACH' ? Role.ROLE_COACH : Role.ROLE_PARTICIPANT,
  email: row.email,
  displayName: row.display_name,
  timezone: row.timezone,
  bio: row.bio,
  createTime: timestampOf(row.create_time),
  updateTime: timestampOf(row.update_time),
  etag: `"v${row.version}"`,
});

const internal = (callback: sendUnaryData<never>) => () => callback({ code: status.INTERNAL, details: 'internal error' });

/** GetProfile and ListProfiles straight on `pg`: query, map, reply. */
export function createBaselineHandlers(pool: Pool): Pick<CoachingServiceServer, 'getProfile' | 'listProfiles'> {
  return {
    getProfile(call: ServerUnaryCall<GetProfileRequest, GetProfileResponse>, callback: sendUnaryData<GetProfileResponse>) {
      pool.query<ProfileRow>(GET_PROFILE_SQL, [call.request.id]).then((result) => {
        const row = result.rows[0];
        if (row === undefined) callback({ code: status.NOT_FOUND, details: 'profile not found' });
        else callback(null, { profile: toProfile(row) });
      }, internal(callback));
    },
    listProfiles(call: ServerUnaryCall<ListProfilesRequest, ListProfilesResponse>, callback: sendUnaryData<ListProfilesResponse>) {
      const size = call.request.pageSize > 0 ? Math.min(call.request.pageSize, 100) : 50;
      const role = call.request.role === Role.ROLE_COACH ? 'COACH' : 'PARTICIPANT';
      pool.query<ProfileRow>(LIST_PROFILES_SQL, [role, size + 1]).then((result) => {
        // No page tokens: the bench reads first pages only.
        callback(null, { profiles: result.rows.slice(0, size).map(toProfile), nextPageToken: '' });
      }, internal(callback));
    },
  };
}
