/**
 * Finds the first part of a value that does not survive JSON (and a trip to a thread)
 * unchanged: a function, a symbol, a bigint, NaN or Infinity, a class instance (a Date, a Map, a
 * Buffer...), a cycle. Returns its path (`payload.items[2].when`) and why, or undefined when the
 * whole value is plain JSON data. `undefined` object properties are allowed (JSON drops them).
 */
export function findNonJson(value: unknown, path: string): { path: string; reason: string } | undefined {
  // the keys from `value` down to the part looked at, and the objects on that way (a cycle is
  // one of them again): the path is spelled out only for the part that fails
  const trail: (string | number)[] = [];
  const ancestors: object[] = [];
  const fail = (reason: string) => ({ path: spell(path, trail), reason });
  const walk = (v: unknown): { path: string; reason: string } | undefined => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return undefined;
      case "number":
        return Number.isFinite(v) ? undefined : fail(`is ${v}, which JSON cannot hold`);
      case "undefined":
        return fail("is undefined");
      case "function":
      case "symbol":
      case "bigint":
        return fail(`is a ${typeof v}, which JSON cannot hold`);
    }
    if (v === null) return undefined;
    const object = v as object;
    if (ancestors.includes(object)) return fail("refers back to an object that contains it (a cycle)");
    if (Array.isArray(object)) {
      ancestors.push(object);
      for (let i = 0; i < object.length; i++) {
        trail.push(i);
        const bad = walk(object[i]);
        if (bad) return bad;
        trail.pop();
      }
      ancestors.pop();
      return undefined;
    }
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      return fail(`is a ${kind}, not plain JSON data (pass a string, a number, an array or a plain object)`);
    }
    ancestors.push(object);
    for (const key of Object.keys(object)) {
      const item = (object as Record<string, unknown>)[key];
      if (item === undefined) continue;
      trail.push(key);
      const bad = walk(item);
      if (bad) return bad;
      trail.pop();
    }
    ancestors.pop();
    return undefined;
  };
  return walk(value);
}

/** `payload.items[2].when`: a key that is not an identifier in brackets, as JSON. */
function spell(root: string, trail: readonly (string | number)[]): string {
  let at = root;
  for (const key of trail)
    at +=
      typeof key === "number"
        ? `[${key}]`
        : /^[A-Za-z_$][\w$]*$/.test(key)
          ? `.${key}`
          : `[${JSON.stringify(key)}]`;
  return at;
}
