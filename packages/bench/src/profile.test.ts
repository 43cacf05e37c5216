import { describe, expect, it } from 'vitest';
import { inspectorUrl } from './profile.js';

describe('inspectorUrl', () => {
  it("reads the inspector's address from node's stderr", () => {
    const stderr =
      '\nDebugger listening on ws://127.0.0.1:40613/6f1c1b8e-5f5e-4d43-9d0f-0f2a1c7b9e11\n' +
      'For help, see: https://nodejs.org/en/docs/inspector\n{"level":30,"msg":"capture source open"}\n';
    expect(inspectorUrl(stderr)).toBe('ws://127.0.0.1:40613/6f1c1b8e-5f5e-4d43-9d0f-0f2a1c7b9e11');
    expect(inspectorUrl('{"level":30}\n')).toBeUndefined();
  });
});
