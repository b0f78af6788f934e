// util/freeze: deepFreeze for values parsed or built once and then shared by every caller (a cache's
// entries): a caller that changed one would change it for all, so such a write throws instead.

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
