// RateLimit header fields in the form of draft-ietf-httpapi-ratelimit-headers-09 (Structured Field
// lists, the form the draft has used since -08): every counted rule is one named quota policy,
//   RateLimit-Policy: "storefront/shop-api/per-tenant";q=100;w=1
//   RateLimit: "storefront/shop-api/per-tenant";r=42;t=1
// q is the rule's `requests` per window w (its period, whole seconds, at least 1); r the whole
// tokens left for this request's key (up to requests + burst); t the seconds until the bucket is
// full again (when limited: until the request would fit, the same as Retry-After). The
// partition key (tenant, address) is never echoed.

/** The RateLimit-Policy item of a rule (computed once per snapshot). */
export function policyItem(policy: string, rule: string, requests: number, periodMs: number): string {
  return `"${policy}/${rule}";q=${requests};w=${Math.max(1, Math.ceil(periodMs / 1000))}`;
}

/** The RateLimit item of a rule for one request. */
export function stateItem(policy: string, rule: string, remaining: number, seconds: number): string {
  return `"${policy}/${rule}";r=${remaining < 0 ? 0 : remaining};t=${seconds}`;
}

/** Whole seconds for Retry-After and `t` (rounded up; at least 1 when anything is left to wait). */
export function seconds(ms: number): number {
  return ms <= 0 ? 0 : Math.max(1, Math.ceil(ms / 1000));
}
