// What the hooks check is what gets sealed: arguments are canonical JSON
// before any hook sees them, and always an object with named keys. Hooks:
// the demo's validate.js, then tests/hooks/shape.js, which refuses paths
// containing "secret" and echo_json values starting with "forbidden". The
// Rust test checks that $APPDATA/secret.txt was never read.
const { fs } = window.moat;

async function resolvesTo(name, promise, expected) {
  try {
    const v = await promise;
    check(name, JSON.stringify(v) === JSON.stringify(expected), { got: v, expected });
  } catch (e) {
    check(name, false, { code: e && e.code, message: e && e.message });
  }
}

const SECRET = '$APPDATA/secret.txt';
const SHAPE = 'must be an object with named keys';

// Arguments as an array (serde would fill a struct from it positionally),
// or as a single value, never reach a hook or the core.
await rejects('array args for a built-in are bad_args', invoke('fs.read_text_file', [SECRET]), 'bad_args', SHAPE);
await rejects('array args for an app command are bad_args', invoke('greet', ['Ada']), 'bad_args', SHAPE);
await rejects('empty array for a no-arg command is bad_args', invoke('read_report', []), 'bad_args', SHAPE);
for (const [what, value] of [['a string', SECRET], ['a number', 5], ['null', null], ['true', true], ['a String object', new String(SECRET)]]) {
  await rejects(`args as ${what} are bad_args`, invoke('fs.read_text_file', value), 'bad_args', SHAPE);
}
await rejects('args as a Map are not JSON data (not quietly {})', invoke('fs.read_text_file', new Map([['path', SECRET]])), 'bad_args', 'a Map is not JSON data');
await rejects('a typed array where the command takes JSON is refused, not read as an object', invoke('echo_json', { value: new Uint8Array([1, 2]) }), 'bad_args', 'where the command takes none');
const cyclic = { a: 1 }; cyclic.self = cyclic;
await rejects('args that contain themselves are refused', invoke('echo_json', { value: cyclic }), 'bad_args', 'contain themselves');
await resolvesTo('a "__proto__" key stays a key', invoke('echo_json', { value: JSON.parse('{"__proto__": {"x": 1}}') }), JSON.parse('{"__proto__": {"x": 1}}'));
await rejects('a field the hook cannot read as a string is refused by the core', invoke('fs.read_text_file', { path: [SECRET] }), 'bad_args', 'expected a string');

// Wrapper objects are their primitive for the hooks and the core alike.
await rejects('a String object is a string to the hook', invoke('fs.read_text_file', { path: new String(SECRET) }), 'rejected_by_hook', 'secret paths are refused');
await rejects('an Object(string) is a string to the hook', invoke('fs.read_text_file', { path: Object(SECRET) }), 'rejected_by_hook', 'secret paths are refused');
await rejects('a String object inside echo_json is a string to the hook', invoke('echo_json', { value: new String('forbidden!') }), 'rejected_by_hook', 'forbidden value');
await resolvesTo('the hook sees typeof "string" for a String object', invoke('echo_json', { value: 'typeof', extra: new String('x') }), 'string');
await resolvesTo('Number and Boolean objects arrive as primitives', invoke('echo_json', { value: [new Number(7), new Boolean(false), new Date(0)] }), [7, false, '1970-01-01T00:00:00.000Z']);
await resolvesTo('undefined members and NaN are what JSON makes of them', invoke('echo_json', { value: { a: undefined, b: NaN, c: [undefined] } }), { b: null, c: [null] });
await rejects('arguments that cannot be cloned are refused', invoke('echo_json', { value: () => 1 }), 'bad_args');
await rejects('a BigInt cannot be sealed', invoke('echo_json', { value: 1n }), 'bad_args', 'a BigInt is not JSON data');

// A hook's rewrite is held to the same shape, and hooks cannot change the
// payload behind the seal's back.
await rejects('a hook rewriting the args to an array is refused', invoke('echo_json', { value: 'to-array' }), 'bad_args', SHAPE);
await rejects('a hook rewriting the args to a string is refused', invoke('echo_json', { value: 'to-string' }), 'bad_args', SHAPE);
await rejects('the payload a hook receives is frozen', invoke('echo_json', { value: 'mutate' }), 'rejected_by_hook');

// The same from an attacker talking to the frame directly.
const att = await connectTo(isolationFrame());
const direct1 = await att.seal('fs.read_text_file', [SECRET]);
check('attacker: array args are refused by the frame', direct1.type === 'error' && direct1.code === 'bad_args', direct1);
const direct2 = await att.seal('fs.read_text_file', { path: new String(SECRET) });
check('attacker: a String object is checked by the hooks as a string', direct2.type === 'error' && direct2.code === 'rejected_by_hook', direct2);
const direct3 = await att.seal('fs.read_text_file', 'x');
check('attacker: a single value is refused by the frame', direct3.type === 'error' && direct3.code === 'bad_args', direct3);

// Control: the ordinary spellings work.
await resolvesTo('an object with named keys works', fs.readTextFile('$APPDATA/public.txt'), 'public');
await resolvesTo('no args means {}', invoke('echo_json', { value: 'ok' }), 'ok');

harness.done();
