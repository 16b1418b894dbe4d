import type {
  CreateProgramRequest,
  CreateProgramResponse,
  DeleteProgramRequest,
  DeleteProgramResponse,
  GetProgramRequest,
  GetProgramResponse,
  ListProgramsRequest,
  ListProgramsResponse,
  UpdateProgramRequest,
  UpdateProgramResponse,
} from '../../generated/coaching/v1/coaching_service';
import { ProgramStatus, type Program } from '../../generated/coaching/v1/program';
import type { FieldViolation } from '../../domain/errors';
import { PROGRAM_LIMITS, PROGRAM_UPDATABLE_PATHS, type NewProgram, type ProgramPatch } from '../../domain/program';
import * as rules from '../../domain/rules';
import type { ProgramService } from '../../services/programService';
import { programStatus, programToProto } from '../programMapper';
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

const STATUS_NAMES = 'PROGRAM_STATUS_DRAFT, PROGRAM_STATUS_ACTIVE or PROGRAM_STATUS_ARCHIVED';

function fieldRule(path: keyof typeof PROGRAM_UPDATABLE_PATHS, program: Program): FieldViolation | undefined {
  switch (path) {
    case 'title':
      return rules.text('program.title', program.title, 1, PROGRAM_LIMITS.title);
    case 'description':
      return rules.text('program.description', program.description, 0, PROGRAM_LIMITS.description, 'free-form');
    case 'status':
      return programStatus.fromProto(program.status) === undefined ? { field: 'program.status', description: `must be ${STATUS_NAMES}` } : undefined;
    case 'total_sessions':
      return rules.integer('program.total_sessions', program.totalSessions, 1, PROGRAM_LIMITS.totalSessions);
  }
}

function validNewProgram(program: Program, requestId: string): NewProgram {
  const unspecified = program.status === ProgramStatus.PROGRAM_STATUS_UNSPECIFIED;
  reject([
    rules.uuid('program.coach_id', program.coachId),
    fieldRule('title', program),
    fieldRule('description', program),
    unspecified ? undefined : fieldRule('status', program),
    fieldRule('total_sessions', program),
    requestIdViolation(requestId),
  ]);
  return {
    coachId: program.coachId.toLowerCase(),
    title: program.title.trim(),
    description: program.description,
    status: unspecified ? 'DRAFT' : programStatus.fromProto(program.status)!,
    totalSessions: program.totalSessions,
  };
}

/** Request validation and proto mapping for the program RPCs; the service does the rest. */
export function createProgramHandlers(service: ProgramService) {
  const createProgram: UnaryHandler<CreateProgramRequest, CreateProgramResponse> = async (req, ctx) => {
    const input = validNewProgram(present('program', req.program), req.requestId);
    return { program: programToProto(await service.create(input, requestIdOf(req.requestId), ctx)) };
  };

  const getProgram: UnaryHandler<GetProgramRequest, GetProgramResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id)]);
    return { program: programToProto(await service.get(req.id, ctx)) };
  };

  const listPrograms: UnaryHandler<ListProgramsRequest, ListProgramsResponse> = async (req, ctx) => {
    const status = enumFilter('status', req.status, programStatus.fromProto, 'ProgramStatus');
    reject([rules.optionalUuid('coach_id', req.coachId), status.violation, pageSizeViolation(req.pageSize), pageTokenViolation(req.pageToken)]);
    const page = await service.list(
      { coachId: optionalId(req.coachId), status: status.value, pageSize: pageSize(req.pageSize), pageToken: req.pageToken },
      ctx,
    );
    return { programs: page.items.map(programToProto), nextPageToken: page.nextPageToken };
  };

  const updateProgram: UnaryHandler<UpdateProgramRequest, UpdateProgramResponse> = async (req, ctx) => {
    const program = present('program', req.program);
    const { violations, patch } = maskedPatch<typeof PROGRAM_UPDATABLE_PATHS, ProgramPatch>(
      req.updateMask ?? [],
      PROGRAM_UPDATABLE_PATHS,
      (path) => fieldRule(path, program),
      (key) => (key === 'status' ? programStatus.fromProto(program.status) : key === 'title' ? program.title.trim() : program[key]),
    );
    reject([rules.uuid('program.id', program.id), etagViolation('program.etag', program.etag), ...violations]);
    return { program: programToProto(await service.update(program.id, program.etag, patch, ctx)) };
  };

  const deleteProgram: UnaryHandler<DeleteProgramRequest, DeleteProgramResponse> = async (req, ctx) => {
    reject([rules.uuid('id', req.id), etagViolation('etag', req.etag)]);
    await service.delete(req.id, req.etag, req.force, ctx);
    return {};
  };

  return { createProgram, getProgram, listPrograms, updateProgram, deleteProgram };
}
