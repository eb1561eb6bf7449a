// A hook that validates with a library copied into the hooks folder
// (__test__/schema.js, valibot), and a hook that returns what a hook may
// not (__test__/wrong_return.js), then one that imports a missing file at
// call time (__test__/dynamic_missing.js).
check('library hook: a valid call passes', (await invoke('greet', { name: 'Ada' })) === 'Hello, Ada! (from Rust)');
await rejects('library hook: an empty name is refused with the schema\'s message', invoke('greet', { name: '' }), 'rejected_by_hook', 'schema: greet: name: Invalid length');
await rejects('library hook: an extra key is refused', invoke('greet', { name: 'Ada', admin: true }), 'rejected_by_hook', 'schema: greet: admin');
await rejects('library hook: a command without a schema is refused', invoke('write_report', { contents: 'x' }), 'rejected_by_hook', 'schema: no schema for write_report');
await rejects('a wrong return value names the hook, the value and what is allowed', invoke('echo', { data: 'wrong' }), 'rejected_by_hook', 'hook __test__/wrong_return.js returned the string "yes"; a hook returns nothing or true');
await rejects('a hook cannot rewrite a call into a reserved name', invoke('echo', { data: 'reserved' }), 'rejected_by_hook', 'returned the reserved command name "moat.frame_report"');
await rejects('a reserved command name from the page is bad_call', invoke('moat.frame_report', { what: 'forged', detail: 'forged' }), 'bad_call', 'reserved');
await rejects('an import of a missing file at call time is refused', invoke('echo', { data: 'dynamic' }), 'rejected_by_hook');
harness.done();
