import type {
  CreateEnrollmentRequest,
  CreateEnrollmentResponse,
  DeleteEnrollmentRequest,
  DeleteEnrollmentResponse,
  GetEnrollmentRequest,
  GetEnrollmentResponse,
  GetProgramProgressRequest,
  GetProgramProgressResponse,
  ListEnrollmentsRequest,
  ListEnrollmentsResponse,
  UpdateEnrollmentRequest,
  UpdateEnrollmentResponse,
} from '../../generated/coaching/v1/coaching_service';
import type { Enrollment } from '../../generated/coaching/v1/enrollment';
import { ENROLLMENT_UPDATABLE_PATHS, type EnrollmentPatch } from '../../domain/enrollment';
import * as rules from '../../domain/rules';
import type { EnrollmentService } from '../../services/enrollmentService';
import { enrollmentStatus, enrollmentToProto, progressToProto } from '../enrollmentMapper';
import type { UnaryHandler } from '../wrapUnary';
import { pageSize } from './paging';
import {
  enumFilter,
  etagViolation,
  maskedPatch,
  optionalId,
  pageSizeViolation,
  pageTokenViolation,
  present,
  reject,
  requestIdOf,
  requestIdViolation,
} from './validation';

/** An update may set ACTIVE or WITHDRAWN; COMPLETED follows from progress. */
function settableStatus(enrollment: Enrollment) {
  const status = enrollmentStatus.fromProto(enrollment.status);
  return status === 'ACTIVE' || status === 'WITHDRAWN' ? status : undefined;
}

/** Request validation and proto mapping for the enrollment RPCs and GetProgramProgress; the service does the rest. */
export function createEnrollmentHandlers(service: EnrollmentService) {
  const createEnrollment: UnaryHandler<CreateEnrollmentRequest, CreateEnrollmentResponse> = async (req, ctx) => {
    const enrollment = present('enrollment', req.enrollment);
    reject([
      rules.uuid('enrollment.participant_id', enrollment.participantId),
      rules.uuid('enrollment.program_id', enrollment.programId),
      requestIdViolation(req.requestId),
    ]);
    const input = { participantId: enrollment.participantId.toLowerCase(), programId: enrollment.programId.toLowerCase() };
    return { enrollment: enrollmentToProto(await service.create(input, requestIdOf(req.requestId), ctx)) };
  };

  const getEnrollment: UnaryHandler<GetEnrollmentRequest, GetEnrollmentResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id)]);
    return { enrollment: enrollmentToProto(await service.get(req.id, ctx)) };
  };

  const listEnrollments: UnaryHandler<ListEnrollmentsRequest, ListEnrollmentsResponse> = async (req, ctx) => {
    const status = enumFilter('status', req.status, enrollmentStatus.fromProto, 'EnrollmentStatus');
    reject([
      rules.optionalUuid('participant_id', req.participantId),
      rules.optionalUuid('program_id', req.programId),
      status.violation,
      pageSizeViolation(req.pageSize),
      pageTokenViolation(req.pageToken),
    ]);
    const page = await service.list(
      {
        participantId: optionalId(req.participantId),
        programId: optionalId(req.programId),
        status: status.value,
        pageSize: pageSize(req.pageSize),
        pageToken: req.pageToken,
      },
      ctx,
    );
    return { enrollments: page.items.map(enrollmentToProto), nextPageToken: page.nextPageToken };
  };

  const updateEnrollment: UnaryHandler<UpdateEnrollmentRequest, UpdateEnrollmentResponse> = async (req, ctx) => {
    const enrollment = present('enrollment', req.enrollment);
    const { violations, patch } = maskedPatch<typeof ENROLLMENT_UPDATABLE_PATHS, EnrollmentPatch>(
      req.updateMask ?? [],
      ENROLLMENT_UPDATABLE_PATHS,
      () =>
        settableStatus(enrollment) === undefined
          ? { field: 'enrollment.status', description: 'must be ENROLLMENT_STATUS_ACTIVE or ENROLLMENT_STATUS_WITHDRAWN (COMPLETED follows from progress)' }
          : undefined,
      () => settableStatus(enrollment),
    );
    reject([rules.uuid('enrollment.id', enrollment.id), etagViolation('enrollment.etag', enrollment.etag), ...violations]);
    return { enrollment: enrollmentToProto(await service.update(enrollment.id, enrollment.etag, patch, ctx)) };
  };

  const deleteEnrollment: UnaryHandler<DeleteEnrollmentRequest, DeleteEnrollmentResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id), etagViolation('etag', req.etag)]);
    await service.delete(req.id, req.etag, req.force, ctx);
    return {};
  };

  const getProgramProgress: UnaryHandler<GetProgramProgressRequest, GetProgramProgressResponse> = async (req, ctx) => {
    reject([rules.uuid('participant_id', req.participantId), rules.uuid('program_id', req.programId)]);
    return { progress: progressToProto(await service.progress(req.participantId.toLowerCase(), req.programId.toLowerCase(), ctx)) };
  };

  return { createEnrollment, getEnrollment, listEnrollments, updateEnrollment, deleteEnrollment, getProgramProgress };
}
