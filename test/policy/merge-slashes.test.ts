// listener.mergeSlashes on a real data plane: off, `//admin/x` is its own path (no rule for it);
// on, it routes, and reaches the backend, as `/admin/x`.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  cluster,
  closeServer,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
} from '../dataplane/fixtures.ts';

for (const merge of [false, true]) {
  test(`mergeSlashes=${merge}`, async () => {
    const seen: string[] = [];
    const be = await httpBackend((req, res) => {
      seen.push(req.url!);
      res.end('ok');
    });
    const dp = await startProxy(
      snapshot({
        routes: [
          route('team/web/admin', 'team/web:80', {
            rule: 'admin',
            match: { path: { type: 'Exact', value: '/admin/x' } },
          }),
        ],
        clusters: [cluster('team/web:80', [be.port])],
        over: { listener: { mergeSlashes: merge } },
      }),
    );
    try {
      const r = await request(dp.port, { path: '//admin//x?q=1' });
      if (merge) {
        assert.is(r.status, 200);
        assert.equal(seen, ['/admin/x?q=1']);
      } else {
        assert.is(r.status, 404);
        assert.equal(seen, []);
      }
    } finally {
      await dp.close();
      await closeServer(be);
    }
  });
}

test.run();
