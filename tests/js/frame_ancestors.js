// The isolation document framed by something other than the app's top-level
// page. Run with an app policy that lets pages frame their own origin
// (frame-src 'self'), the only way to build such a chain. The Rust test reads
// WebKit's console (harness builds print it, to stderr) for the sandboxed case,
// whose messages no page can receive.

async function nest(sandboxed) {
  const f = document.createElement('iframe');
  if (sandboxed) f.setAttribute('sandbox', 'allow-scripts');
  f.src = '/__test__/nest.html';
  const loaded = onceLoaded(f);
  document.body.append(f);
  await loaded;
  return f;
}

// An app page (same origin, not sandboxed) framing the isolation document:
// its nested frame tells its parent why it will not run (tests/pages/nest.html
// records it).
const outer = await nest(false);
let status = null;
for (let i = 0; i < 100 && !status; i++) {
  status = outer.contentWindow.nestedStatus;
  if (!status) await sleep(50);
}
check('isolation document nested below an app page refuses to run',
  !!status && status.ok === false && status.code === 'isolation_failed' && /framed directly by the app/.test(status.message), status);

// A sandboxed (opaque-origin) app page framing it.
await nest(true);
await sleep(500);

// The bridge's own frame, a direct child of the app, still works.
check('calls through the real frame still work', (await invoke('greet', { name: 'x' })) === 'Hello, x! (from Rust)');
harness.done();
