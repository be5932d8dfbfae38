/**
 * vitest globalSetup for the workers project: starts the local Sentry sink and the local OTLP
 * collector in Node and hands their ports (and a port with nothing listening) to the tests
 * through `provide`/`inject`.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startOtlpSink } from './otlp-sink';
import { startSentrySink, unusedPort } from './sentry-sink';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sink = await startSentrySink();
  project.provide('sentrySinkPort', sink.port);
  project.provide('sentryUnusedPort', await unusedPort());
  const otlp = await startOtlpSink();
  project.provide('otlpSinkPort', otlp.port);
  return async () => {
    await sink.close();
    await otlp.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sentrySinkPort: number;
    sentryUnusedPort: number;
    otlpSinkPort: number;
  }
}
