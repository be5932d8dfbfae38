/**
 * Node-side stand-in for the `cloudflare:workers` module, so Node tests can import modules that
 * define Durable Object classes (e.g. to build the OpenAPI document). Never used inside workerd.
 */
export class DurableObject<Env = unknown> {
  constructor(
    readonly ctx: unknown,
    readonly env: Env,
  ) {}
}
export class WorkerEntrypoint<Env = unknown> {
  constructor(
    readonly ctx: unknown,
    readonly env: Env,
  ) {}
}
