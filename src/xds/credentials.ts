// Per-pool credentials: a pool's token is an HMAC of its key under the operator's master key, so
// the operator verifies any token without storing one per pool, and a token opens exactly one
// pool's stream. The operator writes each token into the pool's Secret `bulkhead-<pool>-credential`
// (key `token`), which only that pool's pods mount.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class PoolCredentials {
  constructor(private readonly masterKey: Buffer) {
    if (masterKey.length < 32)
      throw new Error('BH_ERR_CREDENTIAL_KEY: the master key needs at least 32 bytes');
  }

  static generateKey(): Buffer {
    return randomBytes(32);
  }

  tokenFor(poolKey: string): string {
    return createHmac('sha256', this.masterKey).update(`bulkhead-pool:${poolKey}`).digest('base64url');
  }

  verify(poolKey: string, token: string): boolean {
    const want = Buffer.from(this.tokenFor(poolKey));
    const got = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
