// Run with a hook that cannot load (missing, throws at load, no default
// export, or changes a built-in at load): the frame refuses to seal
// anything, the bridge's `ready` rejects with hook_failed, and every call
// is refused before it leaves the page. (--harness-isolation-may-fail.)
const e = harness.readyError;
check('ready rejects with hook_failed', e instanceof MoatError && e.code === 'hook_failed', e && { code: e.code, message: e.message });
await rejects('a call is refused with hook_failed', invoke('write_report', { contents: 'through a broken chain' }), 'hook_failed');
await rejects('so is one made later', invoke('echo', { data: 'x' }), 'hook_failed');
harness.done();
