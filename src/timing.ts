/** Small timer helpers shared by the background (`waitUntil`) work. */

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves on a later turn of the event loop. Background work registered with `waitUntil` runs
 * synchronously up to its first real await; starting with this keeps it (and any synchronous
 * CPU work such as hashing or scrubbing) out of the microtasks ahead of the response.
 */
export const nextTurn = (): Promise<void> => sleep(0);
