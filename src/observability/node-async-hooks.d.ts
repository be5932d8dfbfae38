/**
 * The one Node API vakt uses, available in workerd under the `nodejs_compat` flag. Declared here
 * rather than pulling @types/node into the Worker's types (tsconfig.node.json, which has the real
 * Node types, excludes this file).
 */
declare module 'node:async_hooks' {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, fn: () => R): R;
    getStore(): T | undefined;
    exit<R>(fn: () => R): R;
  }
}
