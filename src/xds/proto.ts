// Loads config.proto once (proto-loader, no code generation) for both ends of the stream.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

export const PROTO_PATH = fileURLToPath(new URL('./config.proto', import.meta.url));

export interface HelloMsg {
  pool: string;
  replica: string;
  appliedVersion: string;
}
export interface DataPlaneMsg {
  hello?: HelloMsg;
  ack?: { version: string };
  nack?: { version: string; error: string };
  msg?: string;
}
export interface ConfigMsg {
  version: string;
  snapshotJson: string;
}

let cached: { service: grpc.ServiceDefinition; client: grpc.ServiceClientConstructor } | null = null;

export function configStreamDefinition() {
  if (cached) return cached;
  const def = protoLoader.loadSync(PROTO_PATH, {
    keepCase: false,
    longs: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = pkg.bulkhead.config.v1.ConfigStream as grpc.ServiceClientConstructor;
  cached = { service: client.service, client };
  return cached;
}

/** Keep-alives detect a dead peer (a vanished pod, a half-open connection) within ~15 s. */
export const KEEPALIVE_CLIENT: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

export const KEEPALIVE_SERVER: grpc.ServerOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};
