/**
 * A module loaded on first use, then kept. `import()` of a module that is loaded
 * already still walks the ESM loader (resolve, module job, promises): tens of µs
 * that the daemon paid on every export for each lazy import on its path. A failed
 * load is not kept, so the next call tries again.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => (loading ??= load().catch((e: unknown) => {
    loading = undefined;
    throw e;
  }));
}
