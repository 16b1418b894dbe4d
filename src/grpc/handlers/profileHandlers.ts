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
import type { Profile } from '../../generated/coaching/v1/profile';
import type { FieldViolation } from '../../domain/errors';
import { PROFILE_UPDATABLE_PATHS, type NewProfile, type ProfilePatch } from '../../domain/profile';
import * as rules from '../../domain/rules';
import type { ProfileService } from '../../services/profileService';
import { profileToProto, roleFromProto } from '../profileMapper';
import type { UnaryHandler } from '../wrapUnary';
import { pageSize } from './paging';
import { enumFilter, etagViolation, maskedPatch, pageSizeViolation, pageTokenViolation, present, reject, requestIdOf, requestIdViolation } from './validation';

function fieldRule(path: keyof typeof PROFILE_UPDATABLE_PATHS, profile: Profile): FieldViolation | undefined {
  switch (path) {
    case 'email':
      return rules.email('profile.email', profile.email);
    case 'display_name':
      return rules.text('profile.display_name', profile.displayName, 1, 100);
    case 'timezone':
      return rules.timezone('profile.timezone', profile.timezone);
    case 'bio':
      return rules.text('profile.bio', profile.bio, 0, 2000, 'free-form');
  }
}

function validNewProfile(profile: Profile, requestId: string): NewProfile {
  const role = roleFromProto(profile.role);
  reject([
    role === undefined ? { field: 'profile.role', description: 'must be ROLE_COACH or ROLE_PARTICIPANT' } : undefined,
    ...(Object.keys(PROFILE_UPDATABLE_PATHS) as (keyof typeof PROFILE_UPDATABLE_PATHS)[]).map((path) => fieldRule(path, profile)),
    requestIdViolation(requestId),
  ]);
  return { role: role!, email: profile.email.trim(), displayName: profile.displayName.trim(), timezone: profile.timezone, bio: profile.bio };
}

/** Request validation and proto mapping for the profile RPCs; the service does the rest. */
export function createProfileHandlers(service: ProfileService) {
  const createProfile: UnaryHandler<CreateProfileRequest, CreateProfileResponse> = async (req, ctx) => {
    const input = validNewProfile(present('profile', req.profile), req.requestId);
    return { profile: profileToProto(await service.create(input, requestIdOf(req.requestId), ctx)) };
  };

  const getProfile: UnaryHandler<GetProfileRequest, GetProfileResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id)]);
    return { profile: profileToProto(await service.get(req.id, ctx)) };
  };

  const listProfiles: UnaryHandler<ListProfilesRequest, ListProfilesResponse> = async (req, ctx) => {
    const role = enumFilter('role', req.role, roleFromProto, 'Role');
    reject([role.violation, pageSizeViolation(req.pageSize), pageTokenViolation(req.pageToken)]);
    const page = await service.list({ role: role.value, pageSize: pageSize(req.pageSize), pageToken: req.pageToken }, ctx);
    return { profiles: page.items.map(profileToProto), nextPageToken: page.nextPageToken };
  };

  const updateProfile: UnaryHandler<UpdateProfileRequest, UpdateProfileResponse> = async (req, ctx) => {
    const profile = present('profile', req.profile);
    const { violations, patch } = maskedPatch<typeof PROFILE_UPDATABLE_PATHS, ProfilePatch>(
      req.updateMask ?? [],
      PROFILE_UPDATABLE_PATHS,
      (path) => fieldRule(path, profile),
      (key) => (key === 'email' || key === 'displayName' ? profile[key].trim() : profile[key]),
    );
    reject([rules.uuid('profile.id', profile.id), etagViolation('profile.etag', profile.etag), ...violations]);
    return { profile: profileToProto(await service.update(profile.id, profile.etag, patch, ctx)) };
  };

  const deleteProfile: UnaryHandler<DeleteProfileRequest, DeleteProfileResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id), etagViolation('etag', req.etag)]);
    await service.delete(req.id, req.etag, req.force, ctx);
    return {};
  };

  return { createProfile, getProfile, listProfiles, updateProfile, deleteProfile };
}
