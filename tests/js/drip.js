// A response that sends one byte every 100 ms: the call times out after
// 1 s (--harness-call-timeout-ms), and the page then waits, so the Rust test
// can see whether the connection was closed at the deadline or read on.
const started = Date.now();
try {
  const r = await window.moat.http.fetch(`http://127.0.0.1:${T.port}/pub/drip`);
  check('http: a dripping response ends with the call', false, { resolved: r.status });
} catch (e) {
  const elapsed = Date.now() - started;
  check('http: a dripping response ends with the call',
    (e.code === 'timeout' || e.code === 'http_failed') && elapsed < 2500, { code: e.code, message: e.message, elapsed });
}
await sleep(4000);
harness.done();
