/**
 * Timers for deadlines. setTimeout fires at once for delays past 2^31-1 ms
 * (about 24.8 days); a deadline that long must not fire early, so long delays are
 * chained. Timers are unref'd: a pending deadline never keeps a process alive.
 */

const maxDelayMs = 2 ** 31 - 1;

export interface DeadlineTimer {
  clear(): void;
}

/** Calls `fn` once the absolute time `deadline` (epoch ms) has passed. */
export function setDeadlineTimer(deadline: number, fn: () => void): DeadlineTimer {
  let handle: ReturnType<typeof setTimeout>;
  const arm = () => {
    const remaining = deadline - Date.now();
    if (remaining > maxDelayMs) {
      handle = setTimeout(arm, maxDelayMs);
    } else {
      handle = setTimeout(fn, Math.max(0, remaining));
    }
    (handle as { unref?: () => void }).unref?.();
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}
