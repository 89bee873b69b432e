// gRPC-Web translation for rules with `grpcWeb.enabled` (phase 400: after CORS, authentication and
// rate limits, for requests that will go upstream). A request with content type
// application/grpc-web[+proto] or application/grpc-web-text[+proto], from an HTTP/1.1 or h2 client,
// goes upstream as gRPC over h2c (content type application/grpc[+codec], te: trailers, the -text
// body base64-decoded as it streams). The response comes back in the request's mode: same content
// type family, message frames passed through (base64 per chunk in text mode: nothing waits for a
// whole message), and the upstream's trailers as the body's last frame (flag 0x80), since neither
// HTTP/1.1 nor a browser's fetch can read trailers. The Exchange calls the response side.

import { Transform, type TransformCallback } from 'node:stream';
import type { RouteIR } from '../../ir/snapshot.ts';
import type { RequestContext } from '../request-context.ts';
import {
  Base64StreamDecoder,
  downstreamContentType,
  GRPC_WEB_NONE,
  GRPC_WEB_TEXT,
  grpcWebMode,
  trailerFrame,
  upstreamContentType,
} from '../grpc-web/codec.ts';
import { Continue, type RoutePolicy, type Verdict } from './types.ts';

export const GRPC_WEB_PHASE = 400;

/** The response side of one translated request, called by the Exchange. */
export class GrpcWebResponse {
  constructor(readonly mode: number) {}

  /** Response head: content type in the client's mode; no length (the body grows a frame). */
  head(flat: string[]): void {
    let w = 0;
    let upstreamType: string | undefined;
    for (let r = 0; r < flat.length; r += 2) {
      const name = flat[r]!.toLowerCase();
      if (name === 'content-type') upstreamType = flat[r + 1];
      else if (name !== 'content-length') {
        flat[w++] = flat[r]!;
        flat[w++] = flat[r + 1]!;
      }
    }
    flat.length = w;
    flat.push('content-type', downstreamContentType(upstreamType, this.mode));
  }

  /** One upstream body chunk as the client receives it. */
  data(chunk: Buffer): Buffer {
    return this.mode === GRPC_WEB_TEXT ? Buffer.from(chunk.toString('base64'), 'latin1') : chunk;
  }

  /** The trailer frame that ends the body. */
  end(trailers: Record<string, string | string[] | undefined>): Buffer {
    return this.data(trailerFrame(trailers));
  }
}

const BINARY = new GrpcWebResponse(1);
const TEXT = new GrpcWebResponse(GRPC_WEB_TEXT);

/** base64 → bytes for a grpc-web-text request body, chunk by chunk */
class Base64Decode extends Transform {
  private readonly decoder = new Base64StreamDecoder();

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const out = this.decoder.push(chunk);
      cb(null, out.length > 0 ? out : undefined);
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    cb(this.decoder.complete ? null : new Error('grpc-web-text body ends inside a base64 group'));
  }
}

class GrpcWebPolicy implements RoutePolicy {
  readonly kind = 'grpc-web';

  onRequest(rc: RequestContext): Verdict {
    const ct = rc.header('content-type');
    const mode = grpcWebMode(ct);
    if (mode === GRPC_WEB_NONE) return Continue;
    rc.grpcWeb = mode === GRPC_WEB_TEXT ? TEXT : BINARY;
    rc.addUpstreamHeader('content-type', upstreamContentType(ct!, mode));
    rc.addUpstreamHeader('te', 'trailers');
    if (mode === GRPC_WEB_TEXT && rc.body !== null) rc.body = rc.body.pipe(new Base64Decode());
    return Continue;
  }
}

const POLICY = new GrpcWebPolicy();

export function grpcWebPolicy(route: RouteIR): RoutePolicy | null {
  return route.grpcWeb ? POLICY : null;
}
