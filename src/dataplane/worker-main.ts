// Entry of a cluster worker (forked by workers.ts): waits for its first snapshot over IPC, serves
// the shared data port in-process, applies later snapshots and answers with ok/error, and drains
// when the primary says so. Workers have no admin server; their metrics reach the primary's
// /metrics through prom-client's AggregatorRegistry.

import prom from 'prom-client';
import { startInProcess, type Dataplane } from './index.ts';
import type { FromWorker, ToWorker } from './workers.ts';

let dp: Dataplane | null = null;

function send(m: FromWorker): void {
  process.send?.(m);
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'start') {
    startInProcess({
      snapshot: m.snapshot,
      port: m.port,
      host: m.host,
      adminPort: null,
      workerShare: m.workers,
      guardProcess: true,
      secretsDir: m.secretsDir ?? undefined,
      ...(m.tlsPort !== undefined ? { tlsPort: m.tlsPort } : {}),
    })
      .then((d) => {
        dp = d;
        // constructing one installs prom-client's worker-side IPC listener; setRegistries says what to send
        new prom.AggregatorRegistry();
        prom.AggregatorRegistry.setRegistries([d.metrics.registry]);
        send({ type: 'ready', port: d.port, tlsPort: d.tlsPort });
      })
      .catch((err: Error) => {
        send({ type: 'failed', error: err.message });
        process.exit(1);
      });
  } else if (m.type === 'snapshot' && dp !== null) {
    const r = dp.apply(m.snapshot);
    send({ type: 'applied', version: m.snapshot.version, ok: r.ok, ...(r.ok ? {} : { error: r.error }) });
  } else if (m.type === 'drain') {
    void (dp?.drain() ?? Promise.resolve()).then(() => process.exit(0));
  }
});

send({ type: 'hello' });

// the primary coordinates shutdown; a SIGTERM sent to the whole process group must not kill us first
process.on('SIGTERM', () => {
  void (dp?.drain() ?? Promise.resolve()).then(() => process.exit(0));
});
