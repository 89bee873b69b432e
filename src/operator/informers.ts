// Informers: list + watch caches of everything the compiler reads (pools, routes, policies,
// Services, EndpointSlices, Namespaces) and of the workloads the operator owns. A watch that fails
// is restarted with back-off (a 410 Gone relists at once); errors are reported, never thrown, so a
// flaky API server cannot crash the process. `bag()` gives the compiler's ResourceBag on demand.

import type { ResourceBag } from '../compiler/index.ts';
import { LABEL_MANAGED_BY, LABEL_POOL } from '../synth/identity.ts';
import { OWNED_KINDS, RESOURCES, type ApiResource, type ResourceKind } from './api-resources.ts';
import { KubeApiError, type KubeObject, type KubeRest } from './kube-rest.ts';

export type EventType = 'add' | 'update' | 'delete';
export type CacheListener = (
  kind: ResourceKind,
  type: EventType,
  obj: KubeObject,
  old: KubeObject | undefined,
) => void;

const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=bulkhead`;
const INPUT_KINDS = ['IngressPool', 'RouteSplit', 'RateLimitPolicy', 'Service', 'EndpointSlice'] as const;

interface ReflectorOptions {
  namespace?: string;
  labelSelector?: string;
  onEvent(type: EventType, obj: KubeObject, old: KubeObject | undefined): void;
  onError(err: unknown): void;
}

/** One list+watch loop for one resource (in one namespace, or all). */
export class Reflector {
  readonly items = new Map<string, KubeObject>();
  synced = false;
  private rv = '';
  private stopped = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(
    private readonly rest: KubeRest,
    readonly res: ApiResource,
    private readonly opts: ReflectorOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  whenSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncWaiters.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.rv) await this.relist();
        await this.watchOnce();
        failures = 0;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof KubeApiError && err.statusCode === 410) {
          this.rv = ''; // history compacted: start over from a fresh list
          continue;
        }
        failures++;
        this.opts.onError(err);
        await this.sleep(Math.min(30_000, 250 * 2 ** Math.min(failures - 1, 7)));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    let cont: string | undefined;
    let rv = '';
    this.abort = new AbortController(); // stop() must not wait for a slow list
    do {
      const page = await this.rest.list(
        this.res,
        this.opts.namespace,
        { labelSelector: this.opts.labelSelector, limit: 500, continue: cont },
        this.abort.signal,
      );
      for (const item of page.items) fresh.set(keyOf(item), withKind(item, this.res));
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? '';
    } while (cont);
    if (this.stopped) return;
    for (const [k, old] of this.items) if (!fresh.has(k)) this.remove(old);
    for (const obj of fresh.values()) this.upsert(obj);
    this.rv = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private async watchOnce(): Promise<void> {
    this.abort = new AbortController();
    const body = await this.rest.watch(
      this.res,
      this.opts.namespace,
      {
        resourceVersion: this.rv,
        allowWatchBookmarks: true,
        labelSelector: this.opts.labelSelector,
        // the server ends the stream now and then; a new one resumes from the last version
        timeoutSeconds: 240 + Math.floor(Math.random() * 60),
      },
      this.abort.signal,
    );
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) this.handle(JSON.parse(line));
        }
      }
    } catch (err) {
      if (this.stopped) return;
      throw err;
    }
  }

  private handle(ev: { type: string; object: KubeObject & { code?: number; message?: string } }): void {
    const obj = ev.object;
    if (ev.type === 'ERROR') {
      throw new KubeApiError(
        obj.code ?? 500,
        'WatchError',
        `watch ${this.res.plural}: ${obj.message ?? 'error event'}`,
      );
    }
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.upsert(withKind(obj, this.res));
    else if (ev.type === 'DELETED') this.remove(withKind(obj, this.res));
    this.rv = obj.metadata?.resourceVersion ?? this.rv;
  }

  private upsert(obj: KubeObject): void {
    const k = keyOf(obj);
    const old = this.items.get(k);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.items.set(k, obj);
    this.opts.onEvent(old ? 'update' : 'add', obj, old);
  }

  private remove(obj: KubeObject): void {
    const k = keyOf(obj);
    const old = this.items.get(k);
    if (!old) return;
    this.items.delete(k);
    this.opts.onEvent('delete', old, old);
  }
}

export interface ClusterCacheOptions {
  /** namespaces to watch for the Bulkhead kinds, Services, EndpointSlices and owned workloads; empty = all */
  namespaces?: string[];
  onError?(kind: ResourceKind, err: unknown): void;
}

/** All informers of one operator instance. */
export class ClusterCache {
  private readonly reflectors = new Map<ResourceKind, Reflector[]>();
  private readonly listeners: CacheListener[] = [];
  /** bumps on every change of a compiler input; an unchanged value means the last compile still holds */
  inputsVersion = 0;
  private readonly onListenerError: ClusterCacheOptions['onError'];
  /** pool key → `<kind>/<name>` → owned object: a pass looks up its pool's objects without a scan */
  private readonly owned = new Map<string, Map<string, KubeObject>>();

  constructor(rest: KubeRest, opts: ClusterCacheOptions = {}) {
    this.onListenerError = opts.onError;
    const scopes: (string | undefined)[] = opts.namespaces?.length ? [...opts.namespaces] : [undefined];
    const add = (kind: ResourceKind, namespace: string | undefined, labelSelector?: string) => {
      const list = this.reflectors.get(kind) ?? [];
      list.push(
        new Reflector(rest, RESOURCES[kind], {
          namespace,
          labelSelector,
          onEvent: (type, obj, old) => this.emit(kind, type, obj, old),
          onError: (err) => opts.onError?.(kind, err),
        }),
      );
      this.reflectors.set(kind, list);
    };
    // Owned Services come from the Services informer (it already sees every Service in scope).
    for (const ns of scopes) for (const kind of INPUT_KINDS) add(kind, ns);
    add('Namespace', undefined);
    for (const ns of scopes)
      for (const kind of OWNED_KINDS) if (kind !== 'Service') add(kind, ns, MANAGED_SELECTOR);
  }

  onEvent(listener: CacheListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    for (const list of this.reflectors.values()) for (const r of list) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.reflectors.values()].flat().map((r) => r.stop()));
  }

  get synced(): boolean {
    return [...this.reflectors.values()].every((list) => list.every((r) => r.synced));
  }

  async whenSynced(): Promise<void> {
    await Promise.all([...this.reflectors.values()].flat().map((r) => r.whenSynced()));
  }

  list(kind: ResourceKind): KubeObject[] {
    const out: KubeObject[] = [];
    for (const r of this.reflectors.get(kind) ?? []) for (const o of r.items.values()) out.push(o);
    return out;
  }

  get(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject | undefined {
    const k = `${namespace ?? ''}/${name}`;
    for (const r of this.reflectors.get(kind) ?? []) {
      const o = r.items.get(k);
      if (o) return o;
    }
    return undefined;
  }

  /** The owned objects of one pool, by label, in the pool's namespace. */
  ownedBy(namespace: string, pool: string): KubeObject[] {
    return [...(this.owned.get(`${namespace}/${pool}`)?.values() ?? [])];
  }

  /** The compiler's input, straight from the caches (objects are shared, not copied: read-only). */
  bag(): ResourceBag {
    return {
      ingressPools: this.list('IngressPool') as never,
      routeSplits: this.list('RouteSplit') as never,
      rateLimitPolicies: this.list('RateLimitPolicy') as never,
      services: this.list('Service') as never,
      endpointSlices: this.list('EndpointSlice') as never,
      namespaces: this.list('Namespace') as never,
    };
  }

  private indexOwned(
    kind: ResourceKind,
    type: EventType,
    obj: KubeObject,
    old: KubeObject | undefined,
  ): void {
    const id = `${kind}/${obj.metadata.name}`;
    const before = ownerPoolKey(old);
    const after = type === 'delete' ? undefined : ownerPoolKey(obj);
    if (before && before !== after) {
      const m = this.owned.get(before);
      m?.delete(id);
      if (m?.size === 0) this.owned.delete(before);
    }
    if (after) {
      let m = this.owned.get(after);
      if (!m) this.owned.set(after, (m = new Map()));
      m.set(id, obj);
    }
  }

  private emit(kind: ResourceKind, type: EventType, obj: KubeObject, old: KubeObject | undefined): void {
    if ((OWNED_KINDS as readonly string[]).includes(kind)) this.indexOwned(kind, type, obj, old);
    // Our own status writes come back as updates of the Bulkhead kinds; they change nothing the
    // compiler reads, and reacting to them would recompile the world after every status write.
    if (type === 'update' && old && BULKHEAD_KINDS.has(kind) && statusOnly(old, obj)) return;
    if ((INPUT_KINDS as readonly string[]).includes(kind) || kind === 'Namespace') this.inputsVersion++;
    for (const l of this.listeners) {
      // A listener's bug must not look like a watch failure (the event would be lost on re-watch).
      try {
        l(kind, type, obj, old);
      } catch (err) {
        this.onListenerError?.(kind, err);
      }
    }
  }
}

/** pool key of an object the operator owns (by its labels), if it is one */
function ownerPoolKey(o: KubeObject | undefined): string | undefined {
  const l = o?.metadata.labels;
  if (!l || l[LABEL_MANAGED_BY] !== 'bulkhead' || !l[LABEL_POOL]) return undefined;
  return `${o!.metadata.namespace}/${l[LABEL_POOL]}`;
}

const BULKHEAD_KINDS: ReadonlySet<ResourceKind> = new Set(['IngressPool', 'RouteSplit', 'RateLimitPolicy']);

/** Same generation and deletion state: only status or metadata the compiler ignores changed. */
function statusOnly(old: KubeObject, obj: KubeObject): boolean {
  return (
    old.metadata.generation !== undefined &&
    old.metadata.generation === obj.metadata.generation &&
    old.metadata.deletionTimestamp === obj.metadata.deletionTimestamp
  );
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Items of a list carry no apiVersion/kind; the compiler and status writer expect them. */
function withKind(o: KubeObject, res: ApiResource): KubeObject {
  if (o.kind && o.apiVersion) return o;
  return { ...o, apiVersion: res.group ? `${res.group}/${res.version}` : res.version, kind: res.kind };
}
