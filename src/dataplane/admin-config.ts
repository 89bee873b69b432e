// Who may read `/config` on the admin port, and what they see. The admin port listens on the pod's
// address (the kubelet probes it), but the snapshot describes every route, backend and policy of the
// pool, so `/config` answers only a loopback peer (the pod itself, or `kubectl port-forward`, which
// needs RBAC on pods/portforward) unless an admin token is configured (`BULKHEAD_ADMIN_TOKEN`); then a
// request with `Authorization: Bearer <token>` is served from anywhere. Values that look like secrets
// are redacted either way: fields named like a password, token, key or secret, and the values of
// header matches on Authorization, Cookie and API-key headers.

import { timingSafeEqual } from 'node:crypto';

export type ConfigAccess = { ok: true } | { ok: false; status: 401 | 403; error: string };

export function isLoopbackPeer(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const got = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

export function configAccess(
  peer: string | undefined,
  authorization: string | undefined,
  token: string | null,
): ConfigAccess {
  if (token !== null && token !== '' && authorization !== undefined) {
    return tokenMatches(authorization, token)
      ? { ok: true }
      : {
          ok: false,
          status: 401,
          error: 'BH_ERR_ADMIN_TOKEN: the bearer token does not match BULKHEAD_ADMIN_TOKEN',
        };
  }
  if (isLoopbackPeer(peer)) return { ok: true };
  return {
    ok: false,
    status: 403,
    error:
      token === null || token === ''
        ? 'BH_ERR_ADMIN_LOOPBACK: /config is served to loopback clients only (kubectl port-forward); set BULKHEAD_ADMIN_TOKEN to allow bearer-token access'
        : 'BH_ERR_ADMIN_TOKEN: /config needs Authorization: Bearer <BULKHEAD_ADMIN_TOKEN> from a non-loopback client',
  };
}

const SECRET_FIELD = /(password|passwd|secret|token|apikey|api_key|privatekey|private_key|credential)$/i;
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)$/i;
export const REDACTED = '[redacted]';

/** A copy of `v` with secret-looking string values replaced (object-valued refs such as secretRef stay). */
export function redactSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactSecrets);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const headerMatch = typeof o.name === 'string' && SECRET_HEADER.test(o.name);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (typeof x === 'string' && (SECRET_FIELD.test(k) || (headerMatch && k === 'value'))) out[k] = REDACTED;
    else out[k] = redactSecrets(x);
  }
  return out;
}
