// A body far over limits.maxMessageBytes (1 MiB here) posted to ipc://.
// WebKit copies any request body a page sends to a custom scheme before a
// handler runs; the floor is measured with app://, which reads no body.
// The Rust test compares peak RSS across the three results.
const body = new Uint8Array(128 << 20);
check('rss: before', true, null);
const floor = await fetch('app://localhost/', { method: 'POST', body });
check('rss: after a body nobody reads', floor.status === 200, floor.status);
const refused = await direct(body);
check('an oversized body to ipc:// is not_an_envelope', !!refused.err && refused.err.code === 'not_an_envelope', refused);
check('the app still answers', (await invoke('echo', { data: 'alive' })) === 'alive');
harness.done();
