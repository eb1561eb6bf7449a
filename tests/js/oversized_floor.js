// The floor for oversized.js: WebKit copies any request body a page sends to
// a custom scheme before a handler runs; app:// reads none of it.
const body = new Uint8Array(128 << 20);
check('rss: before', true, null);
const floor = await fetch('app://localhost/', { method: 'POST', body });
check('rss: after a body nobody reads', floor.status === 200, floor.status);
harness.done();
