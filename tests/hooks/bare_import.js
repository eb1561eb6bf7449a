// A test hook that imports a package by name.

import { z } from 'zod';

export default function bareImport() {
  return z;
}
