// Test hosts in network namespaces. The API server refuses loopback
// addresses in EndpointSlices, so end-to-end tests that route through real
// EndpointSlices need backends on non-loopback addresses that still never
// leave this machine: each test host is a netns joined to the root namespace
// by a veth pair, addressed from the benchmark range 198.18.0.0/15 only.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { isIPv4 } from 'node:net';

export interface TestHostOptions {
  /** Short label; the netns name adds the pid and a counter to it. */
  name: string;
  /** Address inside the netns, e.g. 198.18.0.2. */
  address: string;
  /** Address of the root-namespace end of the veth, e.g. 198.18.0.1. */
  hostAddress: string;
  /** Prefix length shared by both ends; default 30. */
  prefix?: number;
}

export interface TestHost {
  /** Name of the network namespace (as `ip netns list` shows it). */
  name: string;
  address: string;
  hostAddress: string;
  /** Interface names: root-namespace end and netns end of the veth pair. */
  hostIface: string;
  nsIface: string;
  /** Runs a command inside the netns (through `ip netns exec`). */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Kills what spawn() started, deletes the veth pair and the netns. */
  destroy(): Promise<void>;
}

export class TestHostError extends Error {
  readonly code = 'BH_ERR_TEST_HOST';
}

let counter = 0;
const live = new Set<string>();

// A crashed test must not leave namespaces behind; 'exit' allows only
// synchronous work, which is what execFileSync is for.
process.on('exit', () => {
  for (const ns of live) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

export async function createTestHost(opts: TestHostOptions): Promise<TestHost> {
  const prefix = opts.prefix ?? 30;
  checkAddresses(opts.address, opts.hostAddress, prefix);
  const seq = (counter++).toString(36);
  const id = `${process.pid.toString(36)}${seq}`;
  const label = opts.name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 24);
  const ns = `bh-${label}-${process.pid}-${seq}`;
  // IFNAMSIZ is 16 including the NUL: "bh" + id + one letter stays within 15.
  const hostIface = `bh${id}h`;
  const nsIface = `bh${id}n`;
  if (hostIface.length > 15)
    throw new TestHostError(`interface name ${hostIface} is longer than 15 characters`);

  live.add(ns);
  const children = new Set<ChildProcess>();
  try {
    await ip('netns', 'add', ns);
    await ip('link', 'add', hostIface, 'type', 'veth', 'peer', 'name', nsIface, 'netns', ns);
    await ip('addr', 'add', `${opts.hostAddress}/${prefix}`, 'dev', hostIface);
    await ip('link', 'set', hostIface, 'up');
    await ip('-n', ns, 'addr', 'add', `${opts.address}/${prefix}`, 'dev', nsIface);
    await ip('-n', ns, 'link', 'set', nsIface, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (err) {
    await removeHost(ns, hostIface);
    live.delete(ns);
    throw err;
  }

  let destroyed: Promise<void> | undefined;
  return {
    name: ns,
    address: opts.address,
    hostAddress: opts.hostAddress,
    hostIface,
    nsIface,
    spawn(cmd, args, spawnOpts = {}) {
      if (destroyed) throw new TestHostError(`test host ${ns} is destroyed`);
      // `ip netns exec` execs the command after entering the netns, so the
      // returned PID is the command's own and kill() reaches it directly.
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], spawnOpts);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    destroy() {
      destroyed ??= (async () => {
        await Promise.all([...children].map((c) => stopChild(c)));
        await removeHost(ns, hostIface);
        live.delete(ns);
      })();
      return destroyed;
    },
  };
}

/**
 * A /30 in 198.19.0.0/17 picked from this process's pid and a counter, so
 * parallel test runs (and several hosts in one run) do not share a subnet:
 * two veths with one subnet would make routing to either ambiguous.
 */
export function nextTestAddresses(): { address: string; hostAddress: string; prefix: number } {
  const slot = ((process.pid % 128) * 64 + (subnetCounter++ % 64)) * 4;
  const base = toInt('198.19.0.0') + slot;
  return { hostAddress: toDotted(base + 1), address: toDotted(base + 2), prefix: 30 };
}
let subnetCounter = 0;

/** Names of the namespaces `ip netns list` shows. */
export async function listNetns(): Promise<string[]> {
  const out = await ip('netns', 'list');
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => Boolean(n));
}

function checkAddresses(address: string, hostAddress: string, prefix: number): void {
  if (!Number.isInteger(prefix) || prefix < 15 || prefix > 30) {
    throw new TestHostError(`prefix ${prefix} must be an integer in 15..30`);
  }
  for (const [field, a] of [
    ['address', address],
    ['hostAddress', hostAddress],
  ] as const) {
    if (!isIPv4(a)) throw new TestHostError(`${field} ${a} is not an IPv4 address`);
    // Only the benchmark range: traffic to it can never mean a real host.
    if (toInt(a) >>> 17 !== toInt('198.18.0.0') >>> 17) {
      throw new TestHostError(`${field} ${a} is outside 198.18.0.0/15; test hosts use only that range`);
    }
  }
  if (address === hostAddress) throw new TestHostError(`address and hostAddress are both ${address}`);
  const shift = 32 - prefix;
  if (toInt(address) >>> shift !== toInt(hostAddress) >>> shift) {
    throw new TestHostError(`${address} and ${hostAddress} are not in one /${prefix}; pass a shorter prefix`);
  }
}

function toInt(a: string): number {
  return a.split('.').reduce((n, o) => (n * 256 + Number(o)) >>> 0, 0);
}

function toDotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

async function removeHost(ns: string, hostIface: string): Promise<void> {
  // Deleting one end of a veth deletes its peer; deleting the netns would
  // too, but only after every process inside it has gone.
  await ip('link', 'del', hostIface).catch(() => undefined);
  await ip('netns', 'del', ns).catch(() => undefined);
}

function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

function ip(...args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile('ip', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) fail(new TestHostError(`ip ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else done(stdout);
    });
  });
}
