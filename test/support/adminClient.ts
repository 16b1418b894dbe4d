import { credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { AdminServiceClient, AdminServiceService } from '../../src/generated/coaching/admin/v1/admin_service';
import { rpc, type CallOpts } from './grpcClient';

/**
 * coaching.admin.v1.AdminService of a running service's admin listener, with
 * typed promise calls. `token` is sent as `authorization: Bearer <token>` on
 * every call.
 */
export function adminApi(port: number, options: { token?: string; credentials?: ChannelCredentials; channelOptions?: ChannelOptions } = {}) {
  const client = new AdminServiceClient(`127.0.0.1:${port}`, options.credentials ?? grpcCredentials.createInsecure(), options.channelOptions);
  const typed = rpc(client, AdminServiceService);
  const withToken = (opts: CallOpts = {}): CallOpts =>
    options.token === undefined ? opts : { ...opts, metadata: { authorization: `Bearer ${options.token}`, ...opts.metadata } };
  return {
    client,
    call: ((method, request, opts) => typed.call(method, request, withToken(opts))) as typeof typed.call,
    ok: ((method, request, opts) => typed.ok(method, request, withToken(opts))) as typeof typed.ok,
  };
}
