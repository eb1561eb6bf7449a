// A body far over limits.maxMessageBytes (1 MiB here) posted to ipc://.
// The Rust test compares the peak RSS it adds with what the same body adds
// posted to app://, which reads none (oversized_floor.js, another process:
// WebKit frees a body's copies in its own time, so two in one process
// could overlap).
const body = new Uint8Array(128 << 20);
check('rss: before', true, null);
const refused = await direct(body);
check('an oversized body to ipc:// is not_an_envelope', !!refused.err && refused.err.code === 'not_an_envelope', refused);
check('the app still answers', (await invoke('echo', { data: 'alive' })) === 'alive');
harness.done();
