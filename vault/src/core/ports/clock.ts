/** Time is a port so lifecycle rules (TTL, expiry, schedules) are testable without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
