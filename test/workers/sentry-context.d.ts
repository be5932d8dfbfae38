// Values the workers tests receive from test/node/support/sentry-global-setup.ts via `inject`.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    sentrySinkPort: number;
    sentryUnusedPort: number;
    otlpSinkPort: number;
  }
}
