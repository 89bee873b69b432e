// A real, throwaway Kubernetes API server for cluster tests: etcd plus
// kube-apiserver on loopback, built by scripts/setup-k8s-tools.sh and cached
// outside the repository. There is no controller-manager, scheduler or
// kubelet, so nothing reconciles: tests create EndpointSlices themselves,
// deleted namespaces stay Terminating, and nothing is garbage collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { constants as fsc, createWriteStream, openSync, closeSync, existsSync, readFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a user in group system:masters. */
  token: string;
  /** Path of the kubectl binary that matches the server within one minor. */
  kubectlPath: string;
  tmpDir: string;
  /** Runs kubectl against this cluster; never rejects on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** PIDs of the processes this cluster started, for tests that check cleanup. */
  pids: { etcd: number; apiserver: number };
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Mirror the apiserver and etcd logs to this process's stderr. */
  log?: boolean;
  /** How long to wait for /readyz, in ms. */
  readyTimeoutMs?: number;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SETUP_SCRIPT = join(repoRoot, 'scripts', 'setup-k8s-tools.sh');
// Service IPs are never routed here (no kube-proxy); keeping them inside the
// benchmark range means a stray connect to one never leaves the machine.
const SERVICE_CIDR = '198.19.240.0/20';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const TOKEN_USER = 'bulkhead-admin';

export function k8sToolsBinDir(): string {
  const cache = process.env.BULKHEAD_CACHE || join(homedir(), '.cache', 'bulkhead');
  return join(cache, 'bin');
}

export class ClusterStartError extends Error {
  readonly code = 'BH_ERR_TEST_CLUSTER';
}

/** Finds (and outside CI, builds) the binaries; returns their paths. */
export async function ensureK8sTools(): Promise<{ etcd: string; apiserver: string; kubectl: string }> {
  const bin = k8sToolsBinDir();
  const etcd = join(bin, 'etcd');
  const apiserver = join(bin, 'kube-apiserver');
  if (!(await isExecutable(etcd)) || !(await isExecutable(apiserver))) {
    if (process.env.CI === 'true') {
      throw new ClusterStartError(
        `kube-apiserver/etcd not found in ${bin}: run "bash scripts/setup-k8s-tools.sh" first (CI must not skip cluster tests)`,
      );
    }
    const code = await runToExit('bash', [SETUP_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (code !== 0) throw new ClusterStartError(`scripts/setup-k8s-tools.sh exited with ${code}`);
  }
  const ownKubectl = join(bin, 'kubectl');
  const kubectl = (await isExecutable(ownKubectl)) ? ownKubectl : await findOnPath('kubectl');
  if (!kubectl) throw new ClusterStartError('no kubectl: neither in the cache bin dir nor on PATH');
  return { etcd, apiserver, kubectl };
}

export async function startTestCluster(opts: StartOptions = {}): Promise<TestCluster> {
  const tools = await ensureK8sTools();
  try {
    return await startOnce(tools, opts);
  } catch (err) {
    // Free ports are picked then released, so another process can grab one
    // in between; one retry with fresh ports covers that race.
    if (!(err instanceof ClusterStartError) || !/address already in use/i.test(err.message)) throw err;
    return startOnce(tools, opts);
  }
}

/** A client-node KubeConfig for the cluster (token auth, TLS verify off). */
export function createClientConfig(cluster: Pick<TestCluster, 'kubeconfigPath'>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return kc;
}

async function startOnce(
  tools: { etcd: string; apiserver: string; kubectl: string },
  opts: StartOptions,
): Promise<TestCluster> {
  const tmpDir = await mkdtemp(join(tmpdir(), 'bh-k8s-'));
  const procs: ChildProcess[] = [];
  const killAll = () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  };
  process.once('exit', killAll);
  try {
    const [clientPort, peerPort, securePort] = await freePorts(3);
    const token = randomBytes(24).toString('hex');
    const files = await writeServerFiles(tmpDir, token);
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;

    const etcdLog = join(tmpDir, 'etcd.log');
    const etcd = launch(
      tools.etcd,
      [
        '--name=bh',
        `--data-dir=${join(tmpDir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=bh=${peerUrl}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      etcdLog,
      opts.log,
    );
    procs.push(etcd);
    await waitFor('etcd', etcd, etcdLog, 30_000, () => httpGetOk(`${etcdUrl}/health`));

    const apiLog = join(tmpDir, 'kube-apiserver.log');
    const server = `https://127.0.0.1:${securePort}`;
    const apiserver = launch(
      tools.apiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--cert-dir=${join(tmpDir, 'certs')}`,
        `--token-auth-file=${files.tokens}`,
        '--authorization-mode=Node,RBAC',
        `--service-account-issuer=${ISSUER}`,
        `--service-account-key-file=${files.saPublic}`,
        `--service-account-signing-key-file=${files.saPrivate}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        // No controller-manager creates "default" ServiceAccounts, so the
        // admission plugin would refuse every Pod.
        '--disable-admission-plugins=ServiceAccount',
        // The lease reconciler would publish 127.0.0.1 as the kubernetes
        // Service endpoint; nothing here needs it.
        '--endpoint-reconciler-type=none',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
      ],
      apiLog,
      opts.log,
    );
    procs.push(apiserver);
    await waitFor('kube-apiserver', apiserver, apiLog, opts.readyTimeoutMs ?? 120_000, () =>
      httpGetOk(`${server}/readyz`, token),
    );

    const kubeconfigPath = join(tmpDir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigJson(server, token), { mode: 0o600 });

    let stopped: Promise<void> | undefined;
    return {
      kubeconfigPath,
      server,
      token,
      kubectlPath: tools.kubectl,
      tmpDir,
      pids: { etcd: etcd.pid!, apiserver: apiserver.pid! },
      kubectl: (args, input) => runKubectl(tools.kubectl, kubeconfigPath, args, input),
      stop: () => {
        stopped ??= (async () => {
          await terminate(apiserver);
          await terminate(etcd);
          process.removeListener('exit', killAll);
          await rm(tmpDir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const p of procs.reverse()) await terminate(p);
    process.removeListener('exit', killAll);
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

async function writeServerFiles(dir: string, token: string) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saPublic = join(dir, 'sa.pub');
  const saPrivate = join(dir, 'sa.key');
  const tokens = join(dir, 'tokens.csv');
  await writeFile(saPublic, publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(saPrivate, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  // token,user,uid,"group[,group]"
  await writeFile(tokens, `${token},${TOKEN_USER},${TOKEN_USER},"system:masters"\n`, { mode: 0o600 });
  return { saPublic, saPrivate, tokens };
}

function kubeconfigJson(server: string, token: string): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'bulkhead-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: TOKEN_USER, user: { token } }],
      contexts: [
        {
          name: 'bulkhead-test',
          context: { cluster: 'bulkhead-test', user: TOKEN_USER, namespace: 'default' },
        },
      ],
      'current-context': 'bulkhead-test',
    },
    null,
    2,
  );
}

/**
 * Starts a binary with its output going to a log file. Without mirroring the
 * file descriptor is handed to the child directly, so the parent holds no
 * pipe that could keep the event loop alive.
 */
function launch(bin: string, args: string[], logFile: string, mirror?: boolean): ChildProcess {
  if (mirror) {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(logFile, { flags: 'a' });
    const tag = `[${bin.split('/').pop()}] `;
    const copy = (chunk: Buffer) => {
      file.write(chunk);
      process.stderr.write(tag + chunk.toString('utf8'));
    };
    child.stdout!.on('data', copy);
    child.stderr!.on('data', copy);
    child.once('close', () => file.end());
    child.on('error', () => {});
    return child;
  }
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
    child.on('error', () => {}); // surfaces through exitCode in waitFor
    return child;
  } finally {
    closeSync(fd);
  }
}

async function waitFor(
  what: string,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new ClusterStartError(
        `${what} exited (${child.exitCode ?? child.signalCode}) before it was ready; last log lines:\n${tailOf(logFile, 30)}`,
      );
    }
    if (await probe()) return;
    if (Date.now() > deadline) {
      throw new ClusterStartError(
        `${what} not ready after ${timeoutMs} ms; last log lines:\n${tailOf(logFile, 30)}`,
      );
    }
    await sleep(250);
  }
}

function httpGetOk(url: string, token?: string): Promise<boolean> {
  return new Promise((done) => {
    const u = new URL(url);
    const get = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const req = get(
      url,
      { method: 'GET', headers, rejectUnauthorized: false, timeout: 2000, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200));
        res.on('error', () => done(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

function runKubectl(bin: string, kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((done) => {
    const child = spawn(bin, [`--kubeconfig=${kubeconfig}`, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (e) => done({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** SIGTERM, then SIGKILL after a few seconds; resolves once the process is gone. */
async function terminate(child: ChildProcess, graceMs = 4000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((ok, fail) => {
          const s = createServer();
          s.once('error', fail);
          s.listen(0, '127.0.0.1', () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function tailOf(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n') + '\n';
}

async function isExecutable(p: string): Promise<boolean> {
  return access(p, fsc.X_OK).then(
    () => true,
    () => false,
  );
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

function runToExit(cmd: string, args: string[], o: Parameters<typeof spawn>[2]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(cmd, args, o);
    child.on('error', () => done(-1));
    child.on('exit', (code) => done(code ?? -1));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function readClusterLog(
  cluster: TestCluster,
  which: 'etcd' | 'kube-apiserver',
): Promise<string> {
  return readFile(join(cluster.tmpDir, `${which}.log`), 'utf8');
}
