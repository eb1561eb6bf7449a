// A test hook that imports, at call time and by a computed name, a file
// that is not in the hooks folder (startup cannot see a computed name).
export default async function dynamicMissing({ cmd, args }) {
  if (cmd === 'echo' && args.data === 'dynamic') {
    const name = './not-' + 'there.js';
    await import(name);
  }
}
