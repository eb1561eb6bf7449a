// A test hook without a default export.
export const notAHook = true;
