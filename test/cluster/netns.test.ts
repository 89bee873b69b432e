// Test hosts: a process inside a netns serves HTTP on a 198.19.x address and
// the root namespace reaches it over the veth pair.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, request } from 'undici';
import { createTestHost, listNetns, nextTestAddresses, TestHostError, type TestHost } from './netns.ts';

const t = suite('netns test host');
let host: TestHost | undefined;

t.after(async () => {
  await host?.destroy();
});

t('refuses addresses outside 198.18.0.0/15 before touching the system', async () => {
  const before = await listNetns();
  for (const bad of [
    { name: 'x', address: '10.0.0.2', hostAddress: '10.0.0.1' },
    { name: 'x', address: '198.18.0.2', hostAddress: '192.168.0.1' },
    { name: 'x', address: '198.18.0.10', hostAddress: '198.18.0.1', prefix: 30 },
  ]) {
    try {
      await createTestHost(bad);
      assert.unreachable(`accepted ${JSON.stringify(bad)}`);
    } catch (err) {
      assert.instance(err, TestHostError);
    }
  }
  assert.equal(await listNetns(), before);
});

t('serves HTTP from inside the netns to the root namespace, then cleans up', async () => {
  const addrs = nextTestAddresses();
  host = await createTestHost({ name: 'web', ...addrs });
  assert.ok(host.hostIface.length <= 15 && host.nsIface.length <= 15);
  assert.ok((await listNetns()).includes(host.name), 'netns is listed');

  const script = `
    const http = require('node:http');
    const srv = http.createServer((req, res) => res.end('hello from ' + req.socket.localAddress));
    srv.listen(8080, process.argv[1], () => console.log('ready'));
    process.on('SIGTERM', () => srv.close(() => process.exit(0)));
  `;
  const child = host.spawn(process.execPath, ['-e', script, host.address], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.setEncoding('utf8');
  const [first] = (await once(child.stdout!, 'data')) as [string];
  assert.match(first, /ready/);

  const agent = new Agent();
  try {
    const res = await request(`http://${host.address}:8080/`, { dispatcher: agent });
    assert.is(res.statusCode, 200);
    assert.is(await res.body.text(), `hello from ${host.address}`);
  } finally {
    await agent.close();
  }

  const name = host.name;
  const iface = host.hostIface;
  await host.destroy();
  host = undefined;
  assert.ok(child.exitCode !== null || child.signalCode !== null, 'spawned server was stopped');
  assert.not.ok((await listNetns()).includes(name), 'netns is gone');
  const linkGone = await new Promise<boolean>((r) =>
    execFile('ip', ['link', 'show', iface], (err) => r(err !== null)),
  );
  assert.ok(linkGone, 'veth is gone');
});

t.run();
