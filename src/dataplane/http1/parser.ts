// Node's own llhttp binding, the strict parser node:http runs on, used here without node:http's
// server objects. `_http_common` is a public-but-internal module that has exported `HTTPParser`
// since Node 0.x; it avoids `process.binding('http_parser')`, which prints a deprecation warning.
// Parsers are pooled like node:http does (FreeList): a connection takes one and gives it back.
// The numeric callback slots and return codes are llhttp's contract with Node's C++ wrapper:
//   kOnHeaders(flat, url)       more than 32 header lines so far: a batch (also trailers)
//   kOnHeadersComplete(major, minor, flat|undefined, methodIndex, url|undefined, status,
//                      statusText, upgrade, shouldKeepAlive) -> 0 go on, 21 pause, -1 error
//   kOnBody(buffer)             a copy of one slice of body bytes
//   kOnMessageComplete()        end of the message (trailers already delivered by kOnHeaders)

import { createRequire } from 'node:module';

export interface LlhttpError extends Error {
  code: string;
  reason: string;
  bytesParsed: number;
}

export interface NodeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | LlhttpError;
  /** end of input (the peer closed): completes a close-delimited body, or reports a truncation */
  finish(): number | LlhttpError | undefined;
  resume(): void;
  free(): void;
  remove(): void;
  [slot: number]: unknown;
  [slot: symbol]: unknown;
}

interface HTTPParserCtor {
  new (): NodeHttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kLenientNone: number;
}

const require = createRequire(import.meta.url);
const common = require('_http_common') as { HTTPParser: HTTPParserCtor; methods: string[] };

export const HTTPParser = common.HTTPParser;
/** method names by llhttp's method index */
export const METHODS: readonly string[] = common.methods;
export const kOnHeaders = HTTPParser.kOnHeaders;
export const kOnHeadersComplete = HTTPParser.kOnHeadersComplete;
export const kOnBody = HTTPParser.kOnBody;
export const kOnMessageComplete = HTTPParser.kOnMessageComplete;
/** kOnHeadersComplete return value: stop here, `execute` returns an HPE_PAUSED error */
export const PAUSE = 21;
/** kOnHeadersComplete return value: reject (HPE_CB_HEADERS_COMPLETE) */
export const REJECT = -1;

const pool: NodeHttpParser[] = [];
const POOL_MAX = 1000;

/** A parser in strict REQUEST mode (no lenient flags) with the given callbacks installed. */
export function takeParser(
  resource: object,
  maxHeaderBytes: number,
  install: (p: NodeHttpParser) => void,
): NodeHttpParser {
  let p = pool.pop();
  if (p === undefined) {
    p = new HTTPParser();
    install(p);
  }
  p.initialize(HTTPParser.REQUEST, resource, maxHeaderBytes, HTTPParser.kLenientNone);
  return p;
}

export function releaseParser(p: NodeHttpParser): void {
  p.remove();
  p.free();
  if (pool.length < POOL_MAX) pool.push(p);
}
