// The load-tool parsers turn wrk and h2load output into the numbers the benchmark reports; these
// captured outputs pin down units, percentiles and the error accounting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseH2load, parseWrk } from '../../bench/load.ts';
import { grpcFrame, HEALTH_REQUEST, parseGrpcWebBody } from '../../bench/check.ts';
import { parseArgs } from '../../bench/options.ts';

const WRK = `Running 3s test @ http://127.0.0.1:40000/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   571.20us  310.00us  12.40ms   91.00%
    Req/Sec    89.97k     3.10k   95.00k    70.00%
  Latency Distribution
     50%  480.00us
     75%  610.00us
     90%    0.90ms
     99%    3.30ms
  269919 requests in 3.00s, 48.13MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  89973.11
Transfer/sec:     16.04MB
`;

test('wrk: req/s, percentiles in ms, errors summed', () => {
  const r = parseWrk(WRK);
  assert.is(r.rps, 89973.11);
  assert.is(r.p50Ms, 0.48);
  assert.is(r.p99Ms, 3.3);
  assert.is(r.meanMs, 0.5712);
  assert.is(r.maxMs, 12.4);
  assert.is(r.requests, 269919);
  assert.is(r.errors, 7);
});

test('wrk: output without a summary is an error', () => {
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n'), /BH_BENCH_PARSE/);
});

const H2LOAD = `finished in 3.00s, 20583.33 req/s, 2.00MB/s
requests: 61750 total, 61850 started, 61750 done, 61740 succeeded, 10 failed, 0 errored, 0 timeout
status codes: 61735 2xx, 0 3xx, 0 4xx, 10 5xx
traffic: 6.01MB (6298990) total, 2.59MB (2717000) headers (space savings 46.34%), 422.12KB (432250) data
                     min         max         mean         sd        +/- sd
time for request:      719us     54.44ms      4.71ms      3.61ms    89.96%
time for connect:       51us       145us       102us        30us    60.00%
`;

test('h2load: req/s, mean/max; failed streams and non-2xx answers are errors', () => {
  const r = parseH2load(H2LOAD);
  assert.is(r.rps, 20583.33);
  assert.is(r.meanMs, 4.71);
  assert.is(r.maxMs, 54.44);
  assert.is(r.succeeded, 61740);
  assert.is(r.errors, 10 + 10);
  assert.is(r.p99Ms, null);
});

test('gRPC request body is a length-prefixed HealthCheckRequest', () => {
  const frame = grpcFrame(HEALTH_REQUEST);
  assert.equal([...frame], [0, 0, 0, 0, 7, 0x0a, 5, ...Buffer.from('bench')]);
});

test('gRPC-Web body: message frames, then the 0x80 trailer frame read as header lines', () => {
  const trailer = Buffer.from('grpc-status:0\r\ngrpc-message:\r\n', 'latin1');
  const head = Buffer.from([0x80, 0, 0, 0, trailer.length]);
  const body = Buffer.concat([grpcFrame(Buffer.from([8, 1])), head, trailer]);
  const r = parseGrpcWebBody(body);
  assert.equal(
    r.messages.map((m) => [...m]),
    [[8, 1]],
  );
  assert.equal(r.trailers, { 'grpc-status': '0', 'grpc-message': '' });
  assert.equal(parseGrpcWebBody(grpcFrame(Buffer.from([8, 1]))).trailers, null);
  assert.throws(() => parseGrpcWebBody(body.subarray(0, body.length - 1)), /ends inside a frame/);
  assert.throws(
    () => parseGrpcWebBody(Buffer.concat([body, grpcFrame(Buffer.from([1]))])),
    /after its trailer/,
  );
});

test('--suites: http, https and grpc by default; an unknown suite is refused', () => {
  assert.equal([...parseArgs([]).suites].sort(), ['grpc', 'http', 'https']);
  assert.equal([...parseArgs(['--suites', 'https']).suites], ['https']);
  assert.throws(() => parseArgs(['--suites', 'http,htps']), /unknown suite "htps"/);
});

test.run();
