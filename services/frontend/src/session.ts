// The caller's identity for the cart and order APIs (`X-User-Id`). There is no login yet, so
// a random session id is generated once per browser and kept in localStorage; it matches the
// contract's `[A-Za-z0-9_-]{1,64}`.

export const SESSION_KEY = "techitfactory.sessionId";
const VALID = /^[A-Za-z0-9_-]{1,64}$/;

function randomHex(bytes: number): string {
  // crypto.getRandomValues works on plain-http origins too, unlike crypto.randomUUID.
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A fresh random id: `s_` + 32 hex characters. */
export function newId(prefix = "s"): string {
  return `${prefix}_${randomHex(16)}`;
}

/** The browser's session id, created and stored on first use. */
export function sessionId(storage: Storage = window.localStorage): string {
  let id: string | null = null;
  try {
    id = storage.getItem(SESSION_KEY);
  } catch {
    // Storage can be disabled (privacy mode); fall through to an in-memory id.
  }
  if (id && VALID.test(id)) return id;
  id = newId();
  try {
    storage.setItem(SESSION_KEY, id);
  } catch {
    memoryFallback ??= id;
    return memoryFallback;
  }
  return id;
}

let memoryFallback: string | undefined;
