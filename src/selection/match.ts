/**
 * Glob matching for selection values. `*` matches any run of characters, `/` included;
 * nothing else is special. A pattern is compiled once into a matcher that checks the
 * literal prefix and suffix and finds the middle pieces left to right with indexOf: linear
 * in the key for a fixed pattern, with none of the backtracking blow-ups a `.*`-per-star
 * RegExp has on patterns like `*a*a*a*a*b`.
 */

/** A compiled pattern. */
export type Matcher = (s: string) => boolean;

/** True when the value is a pattern rather than a literal. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*');
}

/** Compiles a `*` pattern (a literal when it has no `*`). */
export function compileGlob(pattern: string): Matcher {
  if (!hasWildcard(pattern)) return (s) => s === pattern;
  const parts = pattern.split('*');
  const prefix = parts[0]!;
  const suffix = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  const minLength = prefix.length + suffix.length;
  if (middle.length === 0) {
    if (prefix === '' && suffix === '') return () => true;
    return (s) => s.length >= minLength && s.startsWith(prefix) && s.endsWith(suffix);
  }
  return (s) => {
    if (s.length < minLength || !s.startsWith(prefix) || !s.endsWith(suffix)) return false;
    // The leftmost occurrence of each middle piece leaves the most room for the rest.
    const limit = s.length - suffix.length;
    let at = prefix.length;
    for (const piece of middle) {
      const found = s.indexOf(piece, at);
      if (found < 0 || found + piece.length > limit) return false;
      at = found + piece.length;
    }
    return true;
  };
}

/** The `/` form of a legacy `__` key or pattern (`a__b__*` -> `a/b/*`). */
export function fromLegacy(key: string): string {
  return key.replaceAll('__', '/');
}

/**
 * A matcher for an asset key pattern: the pattern as written, or its legacy `__` reading
 * (`openmetadata__*` means `openmetadata/*`). Valid keys never contain `__`; trying the
 * pattern as written too keeps any key a context holds selectable.
 */
export function compileKeyPattern(pattern: string): Matcher {
  const direct = compileGlob(pattern);
  const legacy = fromLegacy(pattern);
  if (legacy === pattern) return direct;
  const viaLegacy = compileGlob(legacy);
  return (s) => direct(s) || viaLegacy(s);
}
