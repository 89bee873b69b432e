// The benchmark's Bulkhead snapshots load in a real data plane, and the rate-limit variants put one
// never-biting limit on the HTTP route (Local, or Global read through --secrets from a real Redis).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchSnapshot, BENCH_REDIS_SECRET } from '../../bench/snapshot.ts';
import { closeServer, httpBackend, request } from '../dataplane/fixtures.ts';
import { startLimited } from '../ratelimit/fixtures.ts';
import { secretsDir, startRedis } from '../ratelimit/redis-server.ts';

test('bench snapshots: no limit, a Local limit and a Global limit all serve 200; the limits count', async () => {
  const be = await httpBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const redis = await startRedis();
  const { namespace, name, key } = BENCH_REDIS_SECRET;
  const dir = secretsDir({ [`${namespace}/${name}/${key}`]: redis.url });
  try {
    for (const limit of ['none', 'local', 'global'] as const) {
      const s = benchSnapshot({ port: 0, adminPort: 0, httpBackendPort: be.port, grpcBackendPort: 1, limit });
      assert.is(s.rateLimits.length, limit === 'none' ? 0 : 1);
      const dp = await startLimited(s, dir.dir);
      try {
        let r = await request(dp.port, { path: '/' });
        for (let i = 0; limit === 'global' && r.headers['ratelimit'] === undefined && i < 100; i++) {
          await new Promise((res) => setTimeout(res, 50));
          r = await request(dp.port, { path: '/' });
        }
        assert.is(r.status, 200);
        assert.is(r.headers['ratelimit'] !== undefined, limit !== 'none', `${limit}: RateLimit header`);
      } finally {
        await dp.close();
      }
    }
  } finally {
    await closeServer(be);
    await redis.stop();
    dir.remove();
  }
});

test.run();
