/**
 * Finds the first part of a value that does not survive JSON (and a trip to a worker thread)
 * unchanged: a function, a symbol, a bigint, NaN or Infinity, a class instance (a Date, a Map, a
 * Buffer...), a cycle. Returns its path (`payload.items[2].when`) and why, or undefined when the
 * whole value is plain JSON data. `undefined` object properties are allowed (JSON drops them).
 */
export function findNonJson(value: unknown, path: string): { path: string; reason: string } | undefined {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): { path: string; reason: string } | undefined => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return undefined;
      case "number":
        return Number.isFinite(v) ? undefined : { path: at, reason: `is ${v}, which JSON cannot hold` };
      case "undefined":
        return { path: at, reason: "is undefined" };
      case "function":
      case "symbol":
      case "bigint":
        return { path: at, reason: `is a ${typeof v}, which JSON cannot hold` };
    }
    if (v === null) return undefined;
    const object = v as object;
    if (seen.has(object)) return { path: at, reason: "refers back to an object that contains it (a cycle)" };
    if (Array.isArray(object)) {
      seen.add(object);
      for (let i = 0; i < object.length; i++) {
        const bad = walk(object[i], `${at}[${i}]`);
        if (bad) return bad;
      }
      seen.delete(object);
      return undefined;
    }
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      return {
        path: at,
        reason: `is a ${kind}, not plain JSON data (pass a string, a number, an array or a plain object)`,
      };
    }
    seen.add(object);
    for (const [key, item] of Object.entries(object)) {
      if (item === undefined) continue;
      const bad = walk(
        item,
        /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`,
      );
      if (bad) return bad;
    }
    seen.delete(object);
    return undefined;
  };
  return walk(value, path);
}
