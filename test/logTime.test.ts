/** The log line's time (src/log/createLogger.ts isoTimeOncePerMs): pino's isoTime text, made once per millisecond. */
import pino from 'pino';
import { isoTimeOncePerMs } from '../src/log/createLogger';

it("writes what pino's isoTime writes, and a new text for each new millisecond", () => {
  let now = Date.UTC(2026, 11, 1, 18, 0, 0, 123);
  const time = isoTimeOncePerMs(() => now);
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
  try {
    expect(time()).toBe(pino.stdTimeFunctions.isoTime());
    expect(time()).toBe(',"time":"2026-12-01T18:00:00.123Z"');
    now += 1;
    expect(time()).toBe(',"time":"2026-12-01T18:00:00.124Z"');
    expect(time()).toBe(pino.stdTimeFunctions.isoTime());
    now -= 1000;
    expect(time()).toBe(',"time":"2026-12-01T17:59:59.124Z"');
  } finally {
    spy.mockRestore();
  }
});
