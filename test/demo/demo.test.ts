// `npm start` (bulkhead demo) prints try-it commands; every one of them must work. The demo runs
// in this process; each command runs in bash exactly as printed (curl from scripts/setup-system.sh).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startDemo, type Demo } from '../../src/demo/index.ts';

const run = promisify(execFile);
let demo: Demo;

test.before(async () => {
  demo = await startDemo();
});

test.after(async () => {
  await demo?.close();
});

test('the demo serves the three example pools with their backends', () => {
  assert.equal(demo.pools.map((p) => p.key).sort(), [
    'edge-payments/payments',
    'edge-realtime/realtime',
    'edge-storefront/storefront',
  ]);
  assert.is(demo.backends.length, 6);
  assert.ok(demo.tryIt.length >= 8);
});

test('every printed try-it command works', async () => {
  for (const t of demo.tryIt) {
    const { stdout } = await run('bash', ['-c', t.command], { timeout: 30_000 });
    assert.match(stdout, t.expect, `"${t.title}": ${t.command}\n→ ${stdout}`);
  }
});

test('the 90/10 split holds over 1,000 requests without the sticky cookie', async () => {
  const shop = demo.pools.find((p) => p.key === 'edge-storefront/storefront')!;
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connections: 8 });
  let v2 = 0;
  for (let i = 0; i < 1000; i++) {
    const r = await request(`http://127.0.0.1:${shop.port}/api/x`, {
      headers: { host: 'shop.example.com' },
      dispatcher: agent,
    });
    const body = (await r.body.json()) as { service: string };
    if (body.service === 'storefront/shop-api-v2') v2++;
  }
  await agent.close();
  assert.ok(v2 >= 50 && v2 <= 150, `v2 got ${v2}/1000, expected about 100 (±5 %)`);
});

test.run();
