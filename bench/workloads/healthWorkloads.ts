import type { Workload } from './Workload';

const GET_HEALTH = '/coaching.health.v1.HealthService/GetHealth';
const identity = (value: Buffer): Buffer => value;
/** GetHealthRequest has no fields: its encoding is empty. */
const EMPTY_REQUEST = Buffer.alloc(0);

/**
 * GetHealth of coaching.health.v1 (issue 4). Called by method path with raw
 * bytes, so the bench compiles before the health API's generated code is on
 * main; the response is not decoded (the server's cost is what is measured).
 */
export const getHealth: Workload = {
  name: 'GetHealth',
  description: 'coaching.health.v1.HealthService/GetHealth',
  requiresFile: 'proto/coaching/health/v1/health_service.proto',
  targets: {
    service: (context) => {
      const client = context.generic();
      return () =>
        new Promise((resolve, reject) => {
          client.makeUnaryRequest(GET_HEALTH, identity, identity, EMPTY_REQUEST, context.callOptions(), (error, response) =>
            error ? reject(error) : resolve(response),
          );
        });
    },
  },
};
