// More accepting handles on one listening socket. libuv 1.46 (Node 20) accepts ONE connection each
// time a listening handle is reported readable, so a loop that is busy serving takes a burst of new
// connections in at one per iteration: 200 connections opened at once waited up to a second in the
// kernel's accept queue while every accepted one was served in milliseconds (docs/BENCHMARKS.md,
// "Tail latency at 200 connections"; `bench/accept-burst.ts --handles N` shows it). With N handles
// on the same socket, each iteration accepts up to N.
//
// Node 20 has no dup() and no SO_REUSEPORT (`reusePort` arrived in 22.12), but its IPC channel
// duplicates a descriptor each time a handle crosses it: a short-lived child process is sent the
// listening socket's raw handle once and sends it back N times (`keepOpen`), so this process
// receives N handles on N descriptors of the same socket and listens on each. The child only ever
// holds the raw handle (Node does not listen on a received raw handle, unlike a received
// net.Server), so it never accepts a connection; it exits when the channel closes, and is killed
// for good measure. Any failure leaves the listener with its one handle (and a log line).

import { spawn } from 'node:child_process';
import net from 'node:net';

/** accepting handles per listener, the original included; BULKHEAD_ACCEPT_HANDLES overrides (1 = off) */
export const DEFAULT_ACCEPT_HANDLES = 16;
const TIMEOUT_MS = 5000;

// the child's whole program: take the handle, send it back n times; it leaves (with its copy of
// the socket) as soon as the channel closes, whoever closes it and whenever, and after TIMEOUT_MS
// in any case
const CHILD = `process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(0), ${TIMEOUT_MS});
process.on('message', (m, h) => {
  let n = m.n;
  const next = (err) => {
    if (err || n-- === 0) return process.disconnect();
    process.send('h', h, { keepOpen: true }, next);
  };
  next();
});`;

export function acceptHandles(): number {
  const v = process.env.BULKHEAD_ACCEPT_HANDLES;
  const n = v === undefined || v === '' ? DEFAULT_ACCEPT_HANDLES : Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : DEFAULT_ACCEPT_HANDLES;
}

/**
 * `extra` more servers listening on duplicates of `server`'s socket, or [] when that cannot be done
 * here (not Linux, no IPC, the child failed or took too long); `warn` says why.
 */
export function duplicateListener(
  server: net.Server,
  extra: number,
  warn: (msg: string, err?: unknown) => void,
): Promise<net.Server[]> {
  if (extra <= 0 || process.platform !== 'linux') return Promise.resolve([]);
  return new Promise((resolve) => {
    const got: net.Server[] = [];
    let settled = false;
    const done = (why: string | null, err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // the child leaves when the channel closes; the kill makes sure of it (its copy of the
      // socket would otherwise take connections nobody serves)
      if (child.connected) child.disconnect();
      child.kill();
      if (why !== null) {
        for (const s of got) s.close();
        warn(why, err);
        resolve([]);
      } else resolve(got);
    };
    const child = spawn(process.execPath, ['-e', CHILD], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // the child must not run this process's loaders or flags (tsx, --cpu-prof, ...)
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const timer = setTimeout(() => {
      child.kill();
      done(`no duplicate handles within ${TIMEOUT_MS} ms`);
    }, TIMEOUT_MS);
    timer.unref();
    child.on('error', (err) => done('could not start the handle-duplicating child', err));
    // the channel closes after the last message it carried (exit could overtake it)
    child.on('disconnect', () => {
      if (got.length < extra) done(`handle-duplicating child left after ${got.length}/${extra} handles`);
    });
    let pending = extra;
    child.on('message', (_m: unknown, h: unknown) => {
      if (h === undefined || h === null || settled) return;
      // a raw TCP handle: net.Server.listen takes it as it is (listen(2) again on the same socket)
      const s = net.createServer();
      got.push(s);
      s.once('error', (err) => done('could not listen on a duplicate handle', err));
      s.listen(h as net.ListenOptions, () => {
        if (--pending === 0) done(null);
      });
    });
    const raw = (server as unknown as { _handle?: object })._handle;
    if (raw == null) return done('the server is not listening');
    child.send({ n: extra }, raw as net.Socket, { keepOpen: true }, (err) => {
      if (err) done('could not send the listening handle', err);
    });
  });
}
