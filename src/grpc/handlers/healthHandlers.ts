import { ValidationError } from '../../domain/errors';
import type { GetHealthRequest, GetHealthResponse, ListHealthEventsRequest, ListHealthEventsResponse } from '../../generated/coaching/health/v1/health_service';
import type { HealthEventPage } from '../../health/HealthHistory';
import type { HealthReport } from '../../health/types';
import { healthEventToProto, healthReportToProto } from '../healthMapper';
import type { UnaryHandler } from '../wrapUnary';
import { pageSize } from './paging';
import { dependencyNameViolation, pageSizeViolation, pageTokenViolation, reject } from './validation';

/** What the health API reads: cached results only, never a live probe. */
export interface HealthReader {
  report(): HealthReport;
  events(query: { pageSize: number; beforeSeq?: number; dependency?: string }): HealthEventPage;
}

const TOKEN = /^e(\d{1,15})$/;
const encodeToken = (seq: number): string => Buffer.from(`e${seq}`).toString('base64url');

function decodeToken(token: string): number | undefined {
  if (token === '') return undefined;
  const match = TOKEN.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (match === null) throw new ValidationError([{ field: 'page_token', description: 'is not a token this service issued' }]);
  return Number(match[1]);
}

export function createHealthHandlers(health: HealthReader): {
  getHealth: UnaryHandler<GetHealthRequest, GetHealthResponse>;
  listHealthEvents: UnaryHandler<ListHealthEventsRequest, ListHealthEventsResponse>;
} {
  return {
    getHealth: async () => Promise.resolve(healthReportToProto(health.report())),
    async listHealthEvents(request) {
      reject([
        pageSizeViolation(request.pageSize),
        request.dependency === '' ? undefined : dependencyNameViolation('dependency', request.dependency),
        pageTokenViolation(request.pageToken),
      ]);
      const beforeSeq = decodeToken(request.pageToken);
      const page = health.events({ pageSize: pageSize(request.pageSize), dependency: request.dependency, ...(beforeSeq !== undefined && { beforeSeq }) });
      return Promise.resolve({
        events: page.events.map(healthEventToProto),
        nextPageToken: page.nextBeforeSeq === undefined ? '' : encodeToken(page.nextBeforeSeq),
      });
    },
  };
}
