import { describe, expect, it } from "vitest";
import { newId, SESSION_KEY, sessionId } from "./session";

describe("sessionId", () => {
  it("creates an id once and keeps it in localStorage", () => {
    const first = sessionId();
    expect(first).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(window.localStorage.getItem(SESSION_KEY)).toBe(first);
    expect(sessionId()).toBe(first);
  });

  it("replaces a stored id the API would reject", () => {
    window.localStorage.setItem(SESSION_KEY, "bad id with spaces");
    const id = sessionId();
    expect(id).not.toBe("bad id with spaces");
    expect(id).toMatch(/^s_[0-9a-f]{32}$/);
  });

  it("makes distinct ids", () => {
    expect(newId("order")).not.toBe(newId("order"));
    expect(newId("order")).toMatch(/^order_[0-9a-f]{32}$/);
  });
});
