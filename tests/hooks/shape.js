// A test hook (served only by the test-harness build, at hooks/__test__/):
// field checks of the kind an app writes, so the tests can show that every
// spelling of an argument reaches the hooks as the value that is sealed.
export default function shape({ cmd, args }) {
  if (typeof args.path === 'string' && args.path.includes('secret')) {
    throw new Error('shape: secret paths are refused');
  }
  if (cmd === 'echo_json') {
    const v = args.value;
    if (typeof v === 'string' && v.startsWith('forbidden')) throw new Error('shape: forbidden value');
    if (v === 'to-array') return { cmd, args: ['x'] };
    if (v === 'to-string') return { cmd, args: 'x' };
    if (v === 'mutate') args.value = 'changed';
    if (v === 'typeof') return { cmd, args: { value: typeof args.extra } };
  }
  return undefined;
}
