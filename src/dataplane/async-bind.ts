// A cheaper AsyncResource.prototype.bind for Node versions whose bind builds two util.deprecate()
// wrappers per call (Node 20: the deprecated `asyncResource` accessor, DEP0172, gets a fresh getter
// and setter on every bound function). node:http2's ClientHttp2Session.request() binds once per
// stream, so on the h2c upstream path it cost ~7 % of the proxy's CPU directly and more in garbage
// collection: a gRPC call took ~1.4× the CPU it takes with this (docs/DESIGN-NOTES.md). The
// replacement behaves the same way: the bound function runs `fn` in the resource's async scope with
// the same `this` and arguments, has the same `length`, and the same deprecated `asyncResource`
// accessor (one shared getter/setter pair, which warns once per process, as the per-call wrappers
// did, since Node warns once per deprecation code); only its `name` is empty instead of "bound".
// Installed once by the first h2c upstream endpoint (upstreams.ts); on other Node versions nothing
// is changed.

import { AsyncResource } from 'node:async_hooks';
import { deprecate } from 'node:util';

const kBoundResource = Symbol('bulkhead.boundResource');
const DEP_MESSAGE = 'The asyncResource property on bound functions is deprecated';

type Bound = ((...args: unknown[]) => unknown) & { [kBoundResource]?: unknown };

const getResource = deprecate(
  function (this: Bound): unknown {
    return this[kBoundResource];
  },
  DEP_MESSAGE,
  'DEP0172',
);
const setResource = deprecate(
  function (this: Bound, v: unknown): void {
    this[kBoundResource] = v;
  },
  DEP_MESSAGE,
  'DEP0172',
);

const ACCESSOR: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get: getResource,
  set: setResource,
};

/**
 * The bound function of the thisArg-less form: the caller's `this` goes through. Returned from here,
 * not assigned, so the loader's keep-names transform does not define a `name` on every one.
 */
function scoped(resource: AsyncResource, f: (...args: unknown[]) => unknown): Bound {
  return function (this: unknown, ...args: unknown[]): unknown {
    return resource.runInAsyncScope(f, this, ...args);
  };
}

let installed = false;

/** true when Node's own bind is the costly kind this replaces */
export function costlyAsyncBind(): boolean {
  return /\bdeprecate\(/.test(Function.prototype.toString.call(AsyncResource.prototype.bind));
}

export function installAsyncBind(): void {
  if (installed) return;
  installed = true;
  if (!costlyAsyncBind()) return;
  const original = AsyncResource.prototype.bind as unknown as (fn: unknown, thisArg?: unknown) => unknown;
  const proto = AsyncResource.prototype as unknown as {
    bind(this: AsyncResource, fn: unknown, thisArg?: unknown): unknown;
  };
  proto.bind = function bind(this: AsyncResource, fn: unknown, thisArg?: unknown): unknown {
    // a non-function: the original throws Node's own validation error
    if (typeof fn !== 'function') return original.call(this, fn, thisArg);
    const resource = this;
    const f = fn as (...args: unknown[]) => unknown;
    let bound: Bound;
    if (thisArg === undefined) bound = scoped(resource, f);
    else bound = resource.runInAsyncScope.bind(resource, f, thisArg) as Bound;
    // a function of length 0 already has the `length` Node defines (0, read-only, configurable)
    if (f.length !== 0)
      Object.defineProperty(bound, 'length', {
        configurable: true,
        enumerable: false,
        value: f.length,
        writable: false,
      });
    Object.defineProperty(bound, 'asyncResource', ACCESSOR);
    bound[kBoundResource] = resource;
    return bound;
  };
}
