// A test hook with a syntax error on line 3.
export default function syntaxError(  {
  return 1;
}
