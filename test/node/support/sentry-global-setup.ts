/**
 * vitest globalSetup for the workers project: starts the local Sentry sink in Node and hands its
 * port (and a port with nothing listening) to the tests through `provide`/`inject`.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startSentrySink, unusedPort } from './sentry-sink';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sink = await startSentrySink();
  project.provide('sentrySinkPort', sink.port);
  project.provide('sentryUnusedPort', await unusedPort());
  return () => sink.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    sentrySinkPort: number;
    sentryUnusedPort: number;
  }
}
