// `bulkhead demo`: the whole product on a laptop with no cluster. Starts demo backends for every
// Service in examples/, compiles the examples with those backends as endpoints (the offline twin of
// EndpointSlices), runs a real data plane per pool on local ports, and prints commands to try.

import * as grpc from '@grpc/grpc-js';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bagFromDocuments, compile } from '../compiler/index.ts';
import { loadDocuments } from '../manifests/load.ts';
import { startDataplane, type Dataplane } from '../dataplane/index.ts';
import { httpEcho, paymentsGrpc, type DemoBackend } from './backends.ts';
import { startDemoRedis, type DemoRedis } from './redis.ts';

export interface DemoPool {
  key: string;
  port: number;
  adminPort: number;
  version: string;
}

export interface Demo {
  pools: DemoPool[];
  backends: DemoBackend[];
  accessLog: string;
  /** shell commands that exercise the demo; each one prints something that shows it worked */
  tryIt: { title: string; command: string; expect: RegExp }[];
  /** things worth knowing about this run (e.g. where Global rate limits count) */
  notes: string[];
  close(): Promise<void>;
}

const PREFERRED_PORTS: Record<string, [number, number]> = {
  'edge-storefront/storefront': [18080, 19901],
  'edge-payments/payments': [18081, 19902],
  'edge-realtime/realtime': [18082, 19903],
};

export async function startDemo(opts: { examples?: string; cli?: string } = {}): Promise<Demo> {
  const docs = loadDocuments([opts.examples ?? 'examples']).map((d) => d.doc);
  const backends: DemoBackend[] = [];
  const dataplanes: Dataplane[] = [];
  let redis: DemoRedis | null = null;
  const close = async () => {
    await Promise.allSettled(dataplanes.map((d) => d.close()));
    await Promise.allSettled(backends.map((b) => b.close()));
    await redis?.close();
  };
  try {
    for (const svc of docs.filter((d) => d.apiVersion === 'v1' && d.kind === 'Service')) {
      const name = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const h2c = (svc.spec.ports ?? []).some((p: any) => p.appProtocol === 'kubernetes.io/h2c');
      const backend = h2c ? await paymentsGrpc(name) : await httpEcho(name);
      backends.push(backend);
      docs.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${svc.metadata.name}-demo`,
          namespace: svc.metadata.namespace,
          labels: { 'kubernetes.io/service-name': svc.metadata.name },
        },
        addressType: 'IPv4',
        ports: svc.spec.ports.map((p: any) => ({ name: p.name, port: backend.port, protocol: 'TCP' })),
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      });
    }
    const result = compile(bagFromDocuments(docs));
    const accessLog = join(tmpdir(), `bulkhead-demo-access-${process.pid}.log`);
    const logStream = createWriteStream(accessLog, { flags: 'a' });
    const pools: DemoPool[] = [];
    redis = await startDemoRedis(Object.values(result.infra).flatMap((i) => i.secrets));
    const secretsDir = redis.secretsDir ?? undefined;
    for (const [key, snapshot] of Object.entries(result.snapshots)) {
      const [port, adminPort] = PREFERRED_PORTS[key] ?? [0, 0];
      let dp: Dataplane;
      try {
        dp = await startDataplane({
          snapshot,
          port,
          adminPort,
          host: '127.0.0.1',
          workers: 1,
          logStream,
          secretsDir,
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        dp = await startDataplane({
          snapshot,
          port: 0,
          adminPort: 0,
          host: '127.0.0.1',
          workers: 1,
          logStream,
          secretsDir,
        });
      }
      dataplanes.push(dp);
      pools.push({ key, port: dp.port, adminPort: dp.adminPort, version: snapshot.version });
    }
    return {
      pools,
      backends,
      accessLog,
      tryIt: tryIt(pools, opts.cli ?? 'node bin/bulkhead.mjs'),
      notes: redis.note === null ? [] : [redis.note],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function tryIt(pools: DemoPool[], cli: string): Demo['tryIt'] {
  const p = (key: string) => pools.find((x) => x.key === key)!;
  const shop = p('edge-storefront/storefront');
  const pay = p('edge-payments/payments');
  const live = p('edge-realtime/realtime');
  const url = `http://127.0.0.1:${shop.port}`;
  return [
    {
      title: 'storefront web (HTTP/1.1)',
      command: `curl -s -H 'Host: shop.example.com' ${url}/`,
      expect: /"service":"storefront\/shop-web"/,
    },
    {
      title: 'shop API: a sticky 90/10 split between v1 and v2 (look at the bh-split cookie)',
      command: `curl -s -i -H 'Host: shop.example.com' ${url}/api/orders`,
      expect: /set-cookie: bh-split=[\s\S]*"path":"\/orders"/i,
    },
    {
      title: 'shop API canary by header: always v2, /api prefix rewritten to /',
      command: `curl -s -H 'Host: shop.example.com' -H 'x-canary: true' ${url}/api/orders`,
      expect: /"service":"storefront\/shop-api-v2","method":"GET","path":"\/orders"/,
    },
    {
      title: 'the same port speaks HTTP/2 cleartext (h2c)',
      command: `curl -s --http2-prior-knowledge -H 'Host: shop.example.com' ${url}/api/orders -o /dev/null -w '%{http_version} %{http_code}\\n'`,
      expect: /^2 200/,
    },
    {
      title: 'no route for this host: 404',
      command: `curl -s -o /dev/null -w '%{http_code}\\n' -H 'Host: nope.example.com' ${url}/`,
      expect: /^404/,
    },
    {
      title:
        'shop API rate limit: 100 quick requests for one tenant; the pool allows 100/s + 20 burst per tenant (divided among the pool replicas), the rest get 429',
      command: `curl -s -o /dev/null -w '%{http_code}\\n' -H 'Host: shop.example.com' -H 'x-tenant-id: acme' "${url}/api/orders?n=[1-100]" | sort | uniq -c`,
      expect: /^\s*\d+ 200\n\s*\d+ 429$/m,
    },
    {
      title:
        'a limited answer: Retry-After and the RateLimit headers (draft-ietf-httpapi-ratelimit-headers-09)',
      command: `curl -s -o /dev/null -D - -H 'Host: shop.example.com' -H 'x-tenant-id: acme' "${url}/api/orders?n=[1-100]" | grep -i -A2 '^retry-after' | tail -3`,
      expect: /retry-after: 1\s+ratelimit-policy: "storefront\/shop-api\/per-tenant";q=\d+;w=1/i,
    },
    {
      title: 'payments: a gRPC unary call over h2c through the gateway',
      command: `${cli} demo grpc 127.0.0.1:${pay.port} --authority payments.example.com`,
      expect: /charged 4200 cents to acct-1/,
    },
    {
      title: 'realtime: a WebSocket through the gateway',
      command: `${cli} demo ws ws://127.0.0.1:${live.port}/ws/chat --host live.example.com`,
      expect: /realtime\/chat echo: hello from bulkhead/,
    },
    {
      title: 'metrics of the storefront pool (admin port, never the traffic port)',
      command: `curl -s http://127.0.0.1:${shop.adminPort}/metrics | grep -m3 '^bulkhead_'`,
      expect: /^bulkhead_/m,
    },
    {
      title: 'the snapshot the storefront pool serves',
      command: `curl -s http://127.0.0.1:${shop.adminPort}/config | head -c 120; echo`,
      expect: /sha256:/,
    },
  ];
}

/** `bulkhead demo grpc <addr>`: one Charge call and a server stream through the gateway. */
export async function demoGrpcCall(addr: string, authority: string): Promise<string> {
  const { paymentsDefinition } = await import('./backends.ts');
  const Client = paymentsDefinition();
  const client = new Client(addr, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority });
  try {
    const reply: any = await new Promise((resolve, reject) =>
      client.charge(
        { account: 'acct-1', amountCents: 4200 },
        { deadline: Date.now() + 5000 },
        (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)),
      ),
    );
    const seqs: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = client.settlements({ count: 3 }, { deadline: Date.now() + 5000 });
      s.on('data', (m: any) => seqs.push(m.seq));
      s.on('end', resolve);
      s.on('error', reject);
    });
    return `Charge → ${reply.id}: ${reply.status} (served by ${reply.servedBy}); Settlements stream → ${seqs.join(', ')}`;
  } finally {
    client.close();
  }
}

/** `bulkhead demo ws <url>`: connect, send one message, print what comes back. */
export async function demoWebSocket(url: string, host: string): Promise<string> {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(url, { headers: { host }, handshakeTimeout: 5000 });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('no answer within 5 s'))), 5000);
    ws.on('message', (data) => {
      lines.push(data.toString());
      if (lines.length === 1) ws.send('hello from bulkhead');
      else {
        clearTimeout(timer);
        ws.close(1000);
        resolve(lines.join('\n'));
      }
    });
    ws.on('error', (e) => (clearTimeout(timer), reject(e)));
  });
}
