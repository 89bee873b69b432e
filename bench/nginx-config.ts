// nginx configurations for the benchmark: the HTTP/1.1 backend every HTTP peer forwards to, the
// nginx HTTP reverse proxy peer (plaintext, and HTTPS with TLS 1.3 only), and the nginx gRPC
// (grpc_pass over h2c) peer. Pure text builders,
// so test/bench checks them with `nginx -t` without running any load.
//
// Settings mirror the Bulkhead snapshot the runner writes (bench/snapshot.ts): one worker, upstream
// keep-alive pool of 200 idle connections, the same per-connection request limits, access log on.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Requests per downstream/upstream connection before it is recycled; high so h2load/wrk runs never hit it. */
export const MAX_REQUESTS_PER_CONNECTION = 1_000_000;
export const UPSTREAM_KEEPALIVE = 200;
/** The backend's fixed answer: small, so the proxies' per-request work dominates. */
export const BACKEND_BODY = 'bulkhead bench backend: ok\n';

export interface NginxFiles {
  prefix: string;
  conf: string;
}

interface Common {
  /** nginx prefix (-p): pid, error log and temp files live here */
  prefix: string;
}

function head(c: Common): string {
  const p = c.prefix;
  return [
    'worker_processes 1;',
    'daemon off;',
    'master_process on;',
    `pid ${path.join(p, 'nginx.pid')};`,
    `error_log ${path.join(p, 'error.log')} warn;`,
    'events { worker_connections 8192; multi_accept on; }',
    '',
  ].join('\n');
}

function httpCommon(c: Common): string {
  const p = c.prefix;
  return [
    `  client_body_temp_path ${path.join(p, 'client_body')};`,
    `  proxy_temp_path ${path.join(p, 'proxy')};`,
    `  fastcgi_temp_path ${path.join(p, 'fastcgi')};`,
    `  uwsgi_temp_path ${path.join(p, 'uwsgi')};`,
    `  scgi_temp_path ${path.join(p, 'scgi')};`,
    `  keepalive_requests ${MAX_REQUESTS_PER_CONNECTION};`,
    '  keepalive_timeout 75s;',
    '  server_tokens off;',
  ].join('\n');
}

/** The HTTP/1.1 backend: `return 200` with a fixed body, access log off (it is not being measured). */
export function backendConfig(c: Common & { port: number }): string {
  return `${head(c)}http {
${httpCommon(c)}
  access_log off;
  server {
    listen 127.0.0.1:${c.port} backlog=4096;
    location / {
      default_type text/plain;
      return 200 ${JSON.stringify(BACKEND_BODY)};
    }
  }
}
`;
}

/**
 * The nginx reverse proxy peer. Access log is ON (Bulkhead also logs every request), buffered as a
 * production nginx would be, written to /dev/null like Bulkhead's.
 */
export function httpProxyConfig(c: Common & { port: number; backendPort: number }): string {
  return proxyConfig(c, `listen 127.0.0.1:${c.port} backlog=4096;`);
}

/**
 * The nginx HTTPS peer: the same reverse proxy behind `listen ... ssl`, TLS 1.3 only, the bench
 * certificate (bench/tls.ts). Session resumption left at nginx's defaults (tickets on, no shared
 * cache), as Node's TLS server has it; with keep-alive a run makes only one handshake per connection.
 */
export function httpsProxyConfig(
  c: Common & { port: number; backendPort: number; certFile: string; keyFile: string },
): string {
  return proxyConfig(
    c,
    [
      `listen 127.0.0.1:${c.port} ssl backlog=4096;`,
      `    ssl_certificate ${c.certFile};`,
      `    ssl_certificate_key ${c.keyFile};`,
      '    ssl_protocols TLSv1.3;',
    ].join('\n'),
  );
}

function proxyConfig(c: Common & { backendPort: number }, listen: string): string {
  return `${head(c)}http {
${httpCommon(c)}
  access_log /dev/null combined buffer=64k flush=1s;
  upstream bench_backend {
    server 127.0.0.1:${c.backendPort};
    keepalive ${UPSTREAM_KEEPALIVE};
    keepalive_requests ${MAX_REQUESTS_PER_CONNECTION};
    keepalive_timeout 100s;
  }
  server {
    ${listen}
    location / {
      proxy_pass http://bench_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 1s;
      proxy_read_timeout 3s;
      proxy_send_timeout 3s;
    }
  }
}
`;
}

/** The nginx gRPC peer: plaintext HTTP/2 listener (`listen ... http2`), `grpc_pass` to the Go backend. */
export function grpcProxyConfig(c: Common & { port: number; backendPort: number }): string {
  return `${head(c)}http {
${httpCommon(c)}
  access_log /dev/null combined buffer=64k flush=1s;
  http2_max_concurrent_streams 1000;
  upstream bench_grpc_backend {
    server 127.0.0.1:${c.backendPort};
    keepalive ${UPSTREAM_KEEPALIVE};
    keepalive_requests ${MAX_REQUESTS_PER_CONNECTION};
    keepalive_timeout 100s;
  }
  server {
    listen 127.0.0.1:${c.port} http2 backlog=4096;
    location / {
      grpc_pass grpc://bench_grpc_backend;
      grpc_connect_timeout 1s;
      grpc_read_timeout 3s;
      grpc_send_timeout 3s;
    }
  }
}
`;
}

/** Writes `text` as `<prefix>/nginx.conf`, creating the prefix; returns both paths. */
export function writeNginxConfig(prefix: string, text: string): NginxFiles {
  mkdirSync(prefix, { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(conf, text);
  return { prefix, conf };
}

/** argv for running (or, with test=true, checking) one of these configs in the foreground. */
export function nginxArgs(files: NginxFiles, test = false): string[] {
  return [
    ...(test ? ['-t', '-q'] : []),
    '-p',
    files.prefix,
    '-e',
    path.join(files.prefix, 'error.log'),
    '-c',
    files.conf,
  ];
}
