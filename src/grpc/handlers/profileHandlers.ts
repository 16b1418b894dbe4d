import type {
  CreateProfileRequest,
  CreateProfileResponse,
  DeleteProfileRequest,
  DeleteProfileResponse,
  GetProfileRequest,
  GetProfileResponse,
  ListProfilesRequest,
  ListProfilesResponse,
  UpdateProfileRequest,
  UpdateProfileResponse,
} from '../../generated/coaching/v1/coaching_service';
import { Role, type Profile } from '../../generated/coaching/v1/profile';
import { ValidationError, type FieldViolation } from '../../domain/errors';
import { PROFILE_UPDATABLE_PATHS, type NewProfile, type ProfilePatch } from '../../domain/profile';
import * as rules from '../../domain/rules';
import type { ProfileService } from '../../services/profileService';
import { profileToProto, roleFromProto } from '../profileMapper';
import type { UnaryHandler } from '../wrapUnary';
import { pageSize } from './paging';

function reject(violations: FieldViolation[]): void {
  if (violations.length > 0) throw new ValidationError(violations);
}

function fieldRule(path: string, profile: Profile): FieldViolation | undefined {
  switch (path) {
    case 'email':
      return rules.email('profile.email', profile.email);
    case 'display_name':
      return rules.text('profile.display_name', profile.displayName, 1, 100);
    case 'timezone':
      return rules.timezone('profile.timezone', profile.timezone);
    case 'bio':
      return rules.text('profile.bio', profile.bio, 0, 2000);
    default:
      return undefined;
  }
}

function validNewProfile(profile: Profile | undefined): NewProfile {
  if (profile === undefined) throw new ValidationError([{ field: 'profile', description: 'is required' }]);
  const role = roleFromProto(profile.role);
  reject(
    rules.collect(
      role === undefined ? { field: 'profile.role', description: 'must be ROLE_COACH or ROLE_PARTICIPANT' } : undefined,
      ...Object.keys(PROFILE_UPDATABLE_PATHS).map((path) => fieldRule(path, profile)),
    ),
  );
  return { role: role!, email: profile.email.trim(), displayName: profile.displayName.trim(), timezone: profile.timezone, bio: profile.bio };
}

/** Request validation and proto mapping for the profile RPCs; the service does the rest. */
export function createProfileHandlers(service: ProfileService) {
  const createProfile: UnaryHandler<CreateProfileRequest, CreateProfileResponse> = async (req, ctx) => {
    const input = validNewProfile(req.profile);
    reject(rules.collect(rules.optionalUuid('request_id', req.requestId)));
    const profile = await service.create(input, req.requestId === '' ? undefined : req.requestId.toLowerCase(), ctx);
    return { profile: profileToProto(profile) };
  };

  const getProfile: UnaryHandler<GetProfileRequest, GetProfileResponse> = async (req, ctx) => {
    reject(rules.collect(rules.uuid('id', req.id)));
    return { profile: profileToProto(await service.get(req.id, ctx)) };
  };

  const listProfiles: UnaryHandler<ListProfilesRequest, ListProfilesResponse> = async (req, ctx) => {
    const role = req.role === Role.ROLE_UNSPECIFIED ? undefined : roleFromProto(req.role);
    reject(
      rules.collect(
        role === undefined && req.role !== Role.ROLE_UNSPECIFIED ? { field: 'role', description: 'is not a known Role value' } : undefined,
        req.pageSize < 0 ? { field: 'page_size', description: 'must not be negative' } : undefined,
      ),
    );
    const page = await service.list({ role, pageSize: pageSize(req.pageSize), pageToken: req.pageToken }, ctx);
    return { profiles: page.profiles.map(profileToProto), nextPageToken: page.nextPageToken };
  };

  const updateProfile: UnaryHandler<UpdateProfileRequest, UpdateProfileResponse> = async (req, ctx) => {
    const profile = req.profile;
    if (profile === undefined) throw new ValidationError([{ field: 'profile', description: 'is required' }]);
    const paths = req.updateMask ?? [];
    reject(
      rules.collect(
        rules.uuid('profile.id', profile.id),
        rules.required('profile.etag', profile.etag !== ''),
        paths.length === 0 ? { field: 'update_mask', description: `must name at least one of: ${Object.keys(PROFILE_UPDATABLE_PATHS).join(', ')}` } : undefined,
        ...paths.map((path) =>
          path in PROFILE_UPDATABLE_PATHS
            ? fieldRule(path, profile)
            : {
                field: 'update_mask',
                description: `path "${path.slice(0, 64)}" cannot be updated; allowed: ${Object.keys(PROFILE_UPDATABLE_PATHS).join(', ')}`,
              },
        ),
      ),
    );
    const patch: Record<keyof ProfilePatch, string | undefined> = { email: undefined, displayName: undefined, timezone: undefined, bio: undefined };
    for (const path of paths as (keyof typeof PROFILE_UPDATABLE_PATHS)[]) {
      const key = PROFILE_UPDATABLE_PATHS[path];
      patch[key] = key === 'email' || key === 'displayName' ? profile[key].trim() : profile[key];
    }
    return { profile: profileToProto(await service.update(profile.id, profile.etag, patch, ctx)) };
  };

  const deleteProfile: UnaryHandler<DeleteProfileRequest, DeleteProfileResponse> = async (req, ctx) => {
    reject(rules.collect(rules.uuid('id', req.id), rules.required('etag', req.etag !== '')));
    await service.delete(req.id, req.etag, ctx);
    return {};
  };

  return { createProfile, getProfile, listProfiles, updateProfile, deleteProfile };
}
