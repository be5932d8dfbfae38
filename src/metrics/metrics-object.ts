/** METRICS Durable Object — accumulates metric deltas from every isolate (see README "Metrics"). */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export class Metrics extends DurableObject<Env> {}
