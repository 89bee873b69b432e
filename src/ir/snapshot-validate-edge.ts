// Shape checks of the edge-security parts of a snapshot (listener.tls, routes[].auth,
// clusters[].tls), run with the others by checkSnapshotShape: a malformed value from a file or the
// network is a refusal naming the field, never a crash while policies or TLS contexts are built.

export type Check = (ok: boolean, path: string, message: string) => void;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown) => typeof v === 'string' && v !== '';
const isMs = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function ref(v: unknown, path: string, check: Check, withKey = false): void {
  check(isObj(v), path, 'must be an object');
  const r = v as Record<string, unknown>;
  check(isStr(r.namespace) && isStr(r.name), path, 'needs namespace and name');
  if (withKey) check(isStr(r.key), `${path}.key`, 'must be a non-empty string');
}

function strings(v: unknown, path: string, check: Check): void {
  check(Array.isArray(v) && v.every(isStr), path, 'must be a list of non-empty strings');
}

export function checkListenerTls(t: unknown, check: Check): void {
  if (t === null) return;
  check(isObj(t), 'listener.tls', 'must be an object or null');
  const l = t as Record<string, unknown>;
  check(typeof l.port === 'number' && l.port >= 0 && l.port <= 65535, 'listener.tls.port', 'must be a port');
  check(Array.isArray(l.certificates), 'listener.tls.certificates', 'must be an array');
  (l.certificates as unknown[]).forEach((c, i) =>
    ref(isObj(c) ? c.secretRef : c, `listener.tls.certificates[${i}].secretRef`, check),
  );
  check(
    l.minVersion === 'TLS1.2' || l.minVersion === 'TLS1.3',
    'listener.tls.minVersion',
    'must be TLS1.2 or TLS1.3',
  );
  check(typeof l.redirectHTTP === 'boolean', 'listener.tls.redirectHTTP', 'must be a boolean');
  if (l.clientAuth !== null) {
    check(isObj(l.clientAuth), 'listener.tls.clientAuth', 'must be an object or null');
    const c = l.clientAuth as Record<string, unknown>;
    check(
      c.mode === 'Optional' || c.mode === 'Required',
      'listener.tls.clientAuth.mode',
      'must be Optional or Required',
    );
    ref(c.caSecretRef, 'listener.tls.clientAuth.caSecretRef', check);
  }
}

export function checkAuth(a: unknown, p: string, check: Check): void {
  if (a === null) return;
  check(isObj(a), p, 'must be an object or null');
  const { jwt, external } = a as Record<string, unknown>;
  if (jwt !== null) {
    check(isObj(jwt), `${p}.jwt`, 'must be an object or null');
    const j = jwt as Record<string, unknown>;
    check(isStr(j.issuer), `${p}.jwt.issuer`, 'must be a non-empty string');
    strings(j.audiences, `${p}.jwt.audiences`, check);
    check(typeof j.forwardToken === 'boolean', `${p}.jwt.forwardToken`, 'must be a boolean');
    check(
      Array.isArray(j.claimToHeaders) &&
        j.claimToHeaders.every((c) => isObj(c) && isStr(c.claim) && isStr(c.header)),
      `${p}.jwt.claimToHeaders`,
      'must be a list of {claim, header}',
    );
    check(isObj(j.jwks), `${p}.jwt.jwks`, 'must be an object');
    const k = j.jwks as Record<string, unknown>;
    check(isMs(k.cacheDurationMs), `${p}.jwt.jwks.cacheDurationMs`, 'must be a number >= 0');
    check(
      (k.uri === null) !== (k.secretRef === null),
      `${p}.jwt.jwks`,
      'needs exactly one of uri and secretRef',
    );
    if (k.uri !== null)
      check(
        typeof k.uri === 'string' && /^https?:\/\//.test(k.uri),
        `${p}.jwt.jwks.uri`,
        'must be an http(s) URL',
      );
    else ref(k.secretRef, `${p}.jwt.jwks.secretRef`, check, true);
  }
  if (external !== null) {
    check(isObj(external), `${p}.external`, 'must be an object or null');
    const e = external as Record<string, unknown>;
    check(
      typeof e.url === 'string' && /^https?:\/\//.test(e.url),
      `${p}.external.url`,
      'must be an http(s) URL',
    );
    check(
      isMs(e.timeoutMs) && (e.timeoutMs as number) > 0,
      `${p}.external.timeoutMs`,
      'must be a number > 0',
    );
    strings(e.forwardHeaders, `${p}.external.forwardHeaders`, check);
    strings(e.responseHeaders, `${p}.external.responseHeaders`, check);
    check(
      e.failureMode === 'Open' || e.failureMode === 'Closed',
      `${p}.external.failureMode`,
      'must be Open or Closed',
    );
  }
}

export function checkUpstreamTls(t: unknown, p: string, check: Check): void {
  if (t === null) return;
  check(isObj(t), p, 'must be an object or null');
  const u = t as Record<string, unknown>;
  check(isStr(u.serverName), `${p}.serverName`, 'must be a non-empty string');
  if (u.caSecretRef !== null) ref(u.caSecretRef, `${p}.caSecretRef`, check);
  if (u.clientCertificateRef !== null) ref(u.clientCertificateRef, `${p}.clientCertificateRef`, check);
}
