// JWT authentication per rule (auth.jwt), phase 200, with `jose` (no crypto of our own). The token is
// the `Authorization: Bearer` credential; keys come from a JWKS URI (jose's remote key set: cached
// for cacheDuration, refetched on an unknown `kid` at most once per min(30 s, cacheDuration)) or a
// JWKS JSON in a Secret file (re-parsed when the file changes). Accepted algorithms: RS*, PS*, ES*,
// EdDSA (never `none`, never HMAC with a public key); `iss` and `aud` must match, `exp` is required,
// `exp`/`nbf` have 30 s of clock skew. Failure: 401 with `WWW-Authenticate: Bearer` (gRPC:
// UNAUTHENTICATED 16). Success: each claimToHeaders header is set from its claim, an inbound copy is
// always removed, and with forwardToken false the Authorization header does not go upstream.
// Key sets live in env.keep, so a snapshot swap keeps their cache.

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { JwtAuthIR, RouteIR } from '../../ir/snapshot.ts';
import { GrpcStatus, proxyError, type ProxyError } from '../errors.ts';
import type { RequestContext } from '../request-context.ts';
import type { SecretSource } from '../secrets.ts';
import { edgeMetrics, type EdgeMetrics } from '../edge-metrics.ts';
import {
  Answered,
  Pending,
  registerPolicy,
  type PolicyEnv,
  type RoutePolicy,
  type Verdict,
} from './index.ts';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_SKEW_S = 30;
const MAX_COOLDOWN_MS = 30_000;
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const UNSAFE_VALUE = /[\r\n\0]/;

function unauthenticated(reason: string, text: string): ProxyError {
  return proxyError('BH_ERR_UNAUTHENTICATED', 401, `jwt-${reason}`, GrpcStatus.UNAUTHENTICATED, text);
}
const Denials = {
  missing: unauthenticated('missing', 'a Bearer token is required'),
  malformed: unauthenticated('malformed', 'the token is malformed'),
  expired: unauthenticated('expired', 'the token has expired'),
  notYetValid: unauthenticated('not-yet-valid', 'the token is not valid yet'),
  issuer: unauthenticated('issuer', 'the token has the wrong issuer'),
  audience: unauthenticated('audience', 'the token has the wrong audience'),
  claims: unauthenticated('claims', 'the token claims are not acceptable'),
  signature: unauthenticated('signature', 'the token signature does not verify'),
  unknownKey: unauthenticated('unknown-key', 'no key matches the token'),
  algorithm: unauthenticated('algorithm', 'the token algorithm is not accepted'),
};
const keysUnavailable = proxyError(
  'BH_ERR_JWKS_UNAVAILABLE',
  503,
  'jwt-keys-unavailable',
  GrpcStatus.UNAVAILABLE,
  'the keys to verify the token are unavailable',
);
const CHALLENGE = ['www-authenticate', 'Bearer realm="bulkhead"'];
const INVALID_TOKEN = ['www-authenticate', 'Bearer realm="bulkhead", error="invalid_token"'];

/** A JWKS JSON in a Secret file: parsed again only when the file's bytes change. */
class SecretKeySet {
  private bytes: Buffer | null = null;
  private set: JWTVerifyGetKey | null = null;
  constructor(
    private readonly secrets: SecretSource,
    private readonly ref: { namespace: string; name: string; key: string },
  ) {}
  get(): JWTVerifyGetKey | null {
    const b = this.secrets.get(this.ref.namespace, this.ref.name, this.ref.key);
    if (b !== this.bytes) {
      this.bytes = b;
      try {
        this.set = b === null ? null : createLocalJWKSet(JSON.parse(b.toString('utf8')));
      } catch {
        this.set = null;
      }
    }
    return this.set;
  }
}

class JwtPolicy implements RoutePolicy {
  readonly kind = 'jwt';
  private readonly verifyOptions: Parameters<typeof jwtVerify>[2];
  private readonly remote: JWTVerifyGetKey | null;
  private readonly local: SecretKeySet | null;
  private readonly metrics: EdgeMetrics;

  constructor(
    private readonly route: RouteIR,
    private readonly ir: JwtAuthIR,
    env: PolicyEnv,
  ) {
    this.metrics = edgeMetrics(env.metrics);
    this.verifyOptions = {
      issuer: ir.issuer,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['exp'],
      ...(ir.audiences.length ? { audience: ir.audiences } : {}),
    };
    const { uri, secretRef, cacheDurationMs } = ir.jwks;
    this.remote =
      uri === null
        ? null
        : env.keep(`jwt-jwks:${uri}|${cacheDurationMs}`, () =>
            createRemoteJWKSet(new URL(uri), {
              cacheMaxAge: cacheDurationMs,
              cooldownDuration: Math.min(MAX_COOLDOWN_MS, cacheDurationMs),
            }),
          );
    this.local =
      secretRef === null
        ? null
        : env.keep(
            `jwt-secret:${secretRef.namespace}/${secretRef.name}/${secretRef.key}`,
            () => new SecretKeySet(env.secrets, secretRef),
          );
  }

  onRequest(rc: RequestContext): Verdict {
    const m = BEARER.exec(rc.header('authorization') ?? '');
    if (m === null) return this.deny(rc, Denials.missing, CHALLENGE);
    const keys = this.remote ?? this.local!.get();
    if (keys === null) return this.deny(rc, keysUnavailable, null);
    jwtVerify(m[1]!, keys, this.verifyOptions).then(
      (r) => this.allow(rc, r.payload),
      (err: { code?: string; claim?: string }) => {
        const d = denialFor(err);
        this.deny(rc, d, d === keysUnavailable ? null : INVALID_TOKEN);
      },
    );
    return Pending;
  }

  private allow(rc: RequestContext, payload: JWTPayload): void {
    for (const { claim, header } of this.ir.claimToHeaders) {
      rc.dropUpstreamHeader(header);
      const v = claimValue(payload[claim]);
      if (v !== null) rc.addUpstreamHeader(header, v);
    }
    if (!this.ir.forwardToken) rc.dropUpstreamHeader('authorization');
    this.metrics.auth.labels(this.metrics.m.pool, this.route.id, 'jwt', 'allowed', 'valid').inc();
    rc.resume();
  }

  private deny(rc: RequestContext, err: ProxyError, challenge: string[] | null): Verdict {
    this.metrics.auth.labels(this.metrics.m.pool, this.route.id, 'jwt', 'denied', err.reason).inc();
    rc.answerError(err, challenge === null ? null : [...challenge]);
    return Answered; // (ignored when called from the promise)
  }
}

function claimValue(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === '' || UNSAFE_VALUE.test(s) ? null : s;
}

function denialFor(err: { code?: string; claim?: string }): ProxyError {
  switch (err.code) {
    case 'ERR_JWT_EXPIRED':
      return Denials.expired;
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (err.claim === 'iss') return Denials.issuer;
      if (err.claim === 'aud') return Denials.audience;
      if (err.claim === 'nbf') return Denials.notYetValid;
      return Denials.claims;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return Denials.signature;
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return Denials.unknownKey;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return Denials.algorithm;
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return Denials.malformed;
    default:
      // JWKS fetch failed or timed out, or the key set is not valid JSON: not the client's fault
      return keysUnavailable;
  }
}

registerPolicy(200, (route, env) => (route.auth?.jwt ? new JwtPolicy(route, route.auth.jwt, env) : null));
