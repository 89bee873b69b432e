// A thin JSON client for the Kubernetes API: the operator's only door to the API server.
// client-node's KubeConfig still loads kubeconfig files / in-cluster credentials and supplies auth
// headers, but requests go through one undici keep-alive pool here because (1) client-node's typed
// deserializer turns timestamps into Date objects while watch events stay raw JSON, and the
// compiler and the hash comparisons need one stable shape; (2) every request passes one place, so
// write requests are counted exactly (the "a resync makes zero writes" guarantee is tested on it).

import { Agent, request, type Dispatcher } from 'undici';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ApiResource } from './api-resources.ts';
import { resourcePath } from './api-resources.ts';

export const BH_ERR_KUBE_API = 'BH_ERR_KUBE_API';

export class KubeApiError extends Error {
  readonly code = BH_ERR_KUBE_API;
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'apply' | 'delete';
export const WRITE_VERBS: ReadonlySet<Verb> = new Set(['create', 'update', 'patch', 'apply', 'delete']);

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  [k: string]: unknown;
}

export interface KubeList {
  metadata?: { resourceVersion?: string; continue?: string };
  items: KubeObject[];
}

export type RequestListener = (verb: Verb, resource: string, statusCode: number) => void;

interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export class KubeRest {
  readonly server: string;
  /** requests by verb since start; the tests read the write counts */
  readonly counts = new Map<Verb, number>();
  private readonly listeners: RequestListener[] = [];
  private dispatcher: Agent | undefined;

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster)
      throw new KubeApiError(0, 'NoCluster', 'kubeconfig has no current cluster: set a current-context');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  onRequest(listener: RequestListener): void {
    this.listeners.push(listener);
  }

  writeCount(): number {
    let n = 0;
    for (const [verb, count] of this.counts) if (WRITE_VERBS.has(verb)) n += count;
    return n;
  }

  get<T = KubeObject>(
    res: ApiResource,
    namespace: string | undefined,
    name: string,
    sub?: string,
  ): Promise<T> {
    return this.call('get', res, 'GET', resourcePath(res, namespace, name, sub));
  }

  list(
    res: ApiResource,
    namespace: string | undefined,
    query: CallOptions['query'] = {},
    signal?: AbortSignal,
  ): Promise<KubeList> {
    return this.call('list', res, 'GET', resourcePath(res, namespace), { query, signal });
  }

  create<T = KubeObject>(res: ApiResource, obj: KubeObject): Promise<T> {
    return this.call('create', res, 'POST', resourcePath(res, obj.metadata.namespace), { body: obj });
  }

  /** PUT; with metadata.resourceVersion set the API server refuses a stale write with 409 */
  update<T = KubeObject>(res: ApiResource, obj: KubeObject, sub?: string): Promise<T> {
    return this.call(
      'update',
      res,
      'PUT',
      resourcePath(res, obj.metadata.namespace, obj.metadata.name, sub),
      { body: obj },
    );
  }

  /** server-side apply with a field manager; force takes over fields other managers hold */
  apply<T = KubeObject>(res: ApiResource, obj: KubeObject, fieldManager: string, force = true): Promise<T> {
    return this.call('apply', res, 'PATCH', resourcePath(res, obj.metadata.namespace, obj.metadata.name), {
      query: { fieldManager, force },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** delete with a uid precondition, so an object re-created meanwhile under the same name survives */
  delete(res: ApiResource, namespace: string | undefined, name: string, uid?: string): Promise<unknown> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(uid ? { preconditions: { uid } } : {}),
    };
    return this.call('delete', res, 'DELETE', resourcePath(res, namespace, name), { body });
  }

  /** Opens a watch; the body is a stream of JSON lines. The caller closes it through `signal`. */
  async watch(
    res: ApiResource,
    namespace: string | undefined,
    query: CallOptions['query'],
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData['body']> {
    const path = resourcePath(res, namespace);
    // A silently dead connection must not hang the informer: the server ends a watch after
    // timeoutSeconds, so no byte for that long plus a margin means the connection is gone.
    const idleMs = (Number(query?.timeoutSeconds ?? 300) + 30) * 1000;
    const r = await this.send('GET', path, { query: { ...query, watch: true }, signal }, idleMs);
    this.count('watch', res.plural, r.statusCode);
    if (r.statusCode !== 200) throw await toError(r, 'GET', path);
    return r.body;
  }

  async close(): Promise<void> {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    if (d) await d.destroy();
  }

  private async call<T>(
    verb: Verb,
    res: ApiResource,
    method: Dispatcher.HttpMethod,
    path: string,
    opts: CallOptions = {},
  ): Promise<T> {
    const r = await this.send(method, path, opts);
    this.count(verb, res.plural, r.statusCode);
    if (r.statusCode < 200 || r.statusCode >= 300) throw await toError(r, method, path);
    return (await r.body.json()) as T;
  }

  private count(verb: Verb, resource: string, statusCode: number): void {
    this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);
    for (const l of this.listeners) l(verb, resource, statusCode);
  }

  private async send(
    method: Dispatcher.HttpMethod,
    path: string,
    opts: CallOptions,
    bodyTimeoutMs = 60_000,
  ): Promise<Dispatcher.ResponseData> {
    // Auth headers are asked for on every request: exec plugins and projected token files rotate.
    const auth: {
      headers?: Record<string, string>;
      ca?: Buffer;
      cert?: Buffer;
      key?: Buffer;
      rejectUnauthorized?: boolean;
      servername?: string;
    } = {};
    await this.kc.applyToHTTPSOptions(auth as never);
    this.dispatcher ??= new Agent({
      connect: {
        ca: auth.ca,
        cert: auth.cert,
        key: auth.key,
        rejectUnauthorized: auth.rejectUnauthorized,
        servername: auth.servername,
      },
      keepAliveTimeout: 30_000,
    });
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...(auth.headers ?? {}) };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    return request(url, {
      method,
      headers,
      body,
      signal: opts.signal,
      dispatcher: this.dispatcher,
      headersTimeout: 60_000,
      bodyTimeout: bodyTimeoutMs,
    });
  }
}

async function toError(r: Dispatcher.ResponseData, method: string, path: string): Promise<KubeApiError> {
  let reason = 'Unknown';
  let message = `${method} ${path}: HTTP ${r.statusCode}`;
  try {
    const status = (await r.body.json()) as { reason?: string; message?: string };
    reason = status.reason ?? reason;
    if (status.message) message = `${method} ${path}: ${status.message}`;
  } catch {
    // not a Status object; the HTTP code says enough
  }
  return new KubeApiError(r.statusCode, reason, message);
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.statusCode === 404;
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.statusCode === 409;
