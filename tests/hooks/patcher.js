// A test hook that changes a built-in while it loads: the frame's built-ins
// are frozen before any hook loads, so this throws, and the hook fails to
// load rather than running on a realm it changed.
Object.prototype.patchedByAHook = true;
export default function patcher() {
  return undefined;
}
