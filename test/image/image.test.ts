// `npm run image` builds the OCI archive, and the image works as a data plane: the archive is
// unpacked with umoci and its entrypoint runs with the image's own Node, libraries and files
// (chroot into the image's root filesystem, as the image's user 65532), then proxies one request to
// a backend on loopback. Why not podman: running OCI containers here would need podman's runtime,
// storage and network stack (crun, conmon, netavark, fuse-overlayfs) and cgroup delegation inside
// this VM; the chroot runs exactly the image's files, which is what this test is about.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE, SOURCE_URL, VERSION } from '../../src/version.ts';
import {
  closeServer,
  cluster,
  deadPort,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
} from '../dataplane/fixtures.ts';

const ARCHIVE = join('.tmp', 'image', `bulkhead-${VERSION}.oci.tar`);
const dir = mkdtempSync(join(tmpdir(), 'bh-image-test-'));
const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (run bash scripts/setup-system.sh)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const blob = (layout: string, digest: string) =>
  JSON.parse(readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8'));

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('npm run image writes an OCI archive whose config has the entrypoint, user and labels', () => {
  run('bash', ['scripts/build-image.sh']);
  const layout = join(dir, 'oci');
  mkdirSync(layout);
  run('tar', ['-C', layout, '-xf', ARCHIVE]);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const desc = index.manifests.find(
    (m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === VERSION,
  );
  assert.ok(desc, `tag ${VERSION} in index.json`);
  const manifest = blob(layout, desc.digest);
  const config = blob(layout, manifest.config.digest);
  assert.equal(config.config.Entrypoint, ['/usr/local/bin/node', '/app/bin/bulkhead.mjs']);
  assert.is(config.config.User, '65532:65532');
  assert.is(config.config.Labels['org.opencontainers.image.version'], VERSION);
  assert.is(config.config.Labels['org.opencontainers.image.source'], SOURCE_URL);
  assert.is(config.config.Labels['org.opencontainers.image.ref.name'], IMAGE);
  assert.ok(config.config.Env.includes('TSX_DISABLE_CACHE=1'), 'no transpile cache: read-only root works');
});

test('the unpacked image runs as a data plane with its own node and files, and proxies a request', async () => {
  const bundle = join(dir, 'bundle');
  run('umoci', [
    'unpack',
    ...(isRoot ? [] : ['--rootless']),
    '--image',
    `${join(dir, 'oci')}:${VERSION}`,
    bundle,
  ]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  const rootfs = join(bundle, 'rootfs');
  // production dependencies only
  for (const dev of ['uvu', 'typescript', 'prettier'])
    assert.is(
      spawnSync('test', ['-e', join(rootfs, 'app/node_modules', dev)]).status,
      1,
      `no dev dependency ${dev}`,
    );
  assert.is(spawnSync('test', ['-e', join(rootfs, 'app/node_modules/undici')]).status, 0);

  const be = await httpBackend((_req, res) => res.end('hello through the image'));
  const snap = snapshot({
    routes: [route('team/web/main', 'team/web:80')],
    clusters: [cluster('team/web:80', [be.port])],
  });
  mkdirSync(join(rootfs, 'etc/bulkhead'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/bulkhead/snapshot.json'), JSON.stringify(snap));
  const [port, adminPort] = [await deadPort(), await deadPort()];
  const args = [
    ...spec.process.args,
    ...['dataplane', '--snapshot', '/etc/bulkhead/snapshot.json', '--host', '127.0.0.1', '--workers', '1'],
    ...['--port', String(port), '--admin-port', String(adminPort)],
  ];
  const { uid, gid } = spec.process.user;
  // resolved with the host's PATH: the process itself gets only the image's environment
  const which = (c: string) => run('sh', ['-c', `command -v ${c}`]).trim();
  const [cmd, argv] = isRoot
    ? [which('chroot'), [`--userspec=${uid}:${gid}`, rootfs, ...args]]
    : [which('unshare'), ['--user', '--map-root-user', 'chroot', rootfs, ...args]];
  const env = Object.fromEntries(spec.process.env.map((e: string) => e.split(/=(.*)/s).slice(0, 2)));
  const child = spawn(cmd, argv as string[], { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.on('error', (err) => (stderr += String(err)));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout!.resume();
  try {
    for (let i = 0; !/serving on port/.test(stderr); i++) {
      if (child.exitCode !== null || i > 300)
        throw new Error(`the image's data plane did not start:\n${stderr}`);
      await delay(100);
    }
    const r = await request(port, { path: '/' });
    assert.is(r.status, 200);
    assert.is(r.body, 'hello through the image');
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), delay(15_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closeServer(be);
  }
});

test.run();
