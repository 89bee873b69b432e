// An in-process data plane that also exposes its metrics (startInProcess), for tests that read
// counters directly; the snapshot builders come from the data-plane fixtures.

import { startInProcess } from '../../src/dataplane/index.ts';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';
import { LogSink } from '../dataplane/fixtures.ts';

export { closeServer, cluster, httpBackend, route, snapshot } from '../dataplane/fixtures.ts';

export async function startDataplaneWithMetrics(s: PoolSnapshot) {
  const logs = new LogSink();
  const dp = await startInProcess({
    snapshot: s,
    port: 0,
    adminPort: null,
    host: '127.0.0.1',
    logStream: logs,
  });
  return Object.assign(dp, { logs });
}
