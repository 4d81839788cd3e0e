import { useCallback, useEffect, useState } from "react";
import { describeError } from "./api";

export interface AsyncState<T> {
  data: T | null;
  loading: boolean;
  error: string | null;
  retry: () => void;
}

/** Run `load` whenever `deps` change; abort the previous run so a slow answer never wins. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): AsyncState<T> {
  const key = JSON.stringify(deps);
  const [state, setState] = useState<{ key: string | null; data: T | null; error: string | null }>({
    key: null,
    data: null,
    error: null,
  });
  const [attempt, setAttempt] = useState(0);
  const [settled, setSettled] = useState(-1);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setState({ key, data: value, error: null });
        setSettled(attempt);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setState((prev) => ({ key, data: prev.data, error: describeError(err) }));
        setSettled(attempt);
      },
    );
    return () => controller.abort();
    // `key` stands for the caller's deps; `load` is a new closure each render and deliberately not one.
  }, [key, attempt]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  // Until the answer for the current deps (and attempt) arrives, the previous data belongs to
  // other parameters: report loading, so a page never labels old results with a new query.
  const current = state.key === key && settled === attempt;
  return {
    data: current ? state.data : null,
    loading: !current,
    error: current ? state.error : null,
    retry,
  };
}
