"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";

import {
  currentAccessToken,
  forgetAccessToken,
  getAccessToken,
  SessionEndedError,
  subscribeAccessToken,
} from "@/lib/access-token";
import { authClient, signOut, useSession } from "@/lib/auth-client";
import { createTask, listTasks, type Task } from "@/lib/tasks-api";

type Me = { id: string; name: string | null; email: string | null; sessionId: string };

export default function TasksPage() {
  const router = useRouter();
  const { data: session, isPending } = useSession();
  const token = useSyncExternalStore(subscribeAccessToken, currentAccessToken, () => null);
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [me, setMe] = useState<Me | null>(null);
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // set when this page sends the user away itself, so the "no session" redirect stays quiet
  const leaving = useRef(false);

  const leave = useCallback(
    (reason: "signed-out" | "session-ended") => {
      leaving.current = true;
      forgetAccessToken();
      router.replace(`/sign-in?reason=${reason}`);
    },
    [router],
  );

  /** Runs an action; a session that ended elsewhere sends the user back to sign in. */
  const run = useCallback(
    async (action: () => Promise<void>) => {
      setError(null);
      try {
        await action();
      } catch (e) {
        if (e instanceof SessionEndedError) {
          leave("session-ended");
        } else {
          setError(e instanceof Error ? e.message : String(e));
        }
      }
    },
    [leave],
  );

  // Not signed in: to the sign-in page. A session that was here and is gone (the client
  // checks again when the window regains focus) ended elsewhere: say so there.
  const hadSession = useRef(false);
  useEffect(() => {
    if (session) {
      hadSession.current = true;
    } else if (!isPending && !leaving.current) {
      if (hadSession.current) {
        leave("session-ended");
      } else {
        router.replace("/sign-in");
      }
    }
  }, [isPending, session, router, leave]);

  // Signed in: load the tasks (this also takes the first access token).
  const sessionId = session?.session.id;
  useEffect(() => {
    if (sessionId) {
      void run(async () => setTasks(await listTasks()));
    }
  }, [sessionId, run]);

  // Renew the access token shortly before it expires, while this page is open.
  useEffect(() => {
    if (!token) return;
    const timer = setTimeout(
      () => void run(async () => void (await getAccessToken())),
      Math.max(0, token.renewAt - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [token, run]);

  // Who the Next.js server says we are, from the same access token (app/api/me/route.ts).
  const accessToken = token?.token;
  useEffect(() => {
    if (!accessToken) return;
    let cancelled = false;
    fetch("/api/me", { headers: { authorization: `Bearer ${accessToken}` }, cache: "no-store" })
      .then(async (res) => (res.ok ? ((await res.json()) as Me) : null))
      .then((who) => {
        if (!cancelled && who) setMe(who);
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [accessToken]);

  async function onAdd(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = title.trim();
    if (!text) return;
    await run(async () => {
      const task = await createTask(text);
      setTasks((previous) => [task, ...(previous ?? [])]);
      setTitle("");
    });
  }

  async function onSignOut() {
    leaving.current = true;
    await signOut();
    leave("signed-out");
  }

  async function onSignOutOthers() {
    await run(async () => {
      const { error } = await authClient.revokeOtherSessions();
      if (error) throw new Error(error.message ?? "Could not sign out the other devices.");
      setNotice("Your other devices are signed out.");
    });
  }

  if (isPending || !session) {
    return <p className="muted">Loading…</p>;
  }

  return (
    <>
      <section className="card">
        <div className="row" style={{ justifyContent: "space-between" }}>
          <h1 style={{ margin: 0 }}>Tasks</h1>
          <div className="row">
            <button type="button" className="secondary" onClick={onSignOutOthers}>
              Sign out other devices
            </button>
            <button type="button" className="secondary" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </div>
        <p className="muted" data-testid="greeting">
          {me
            ? `Signed in as ${me.name ?? me.id} (${me.email ?? "no email"}) — checked by the Next.js server.`
            : `Signed in as ${session.user.name}.`}
        </p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form className="row" onSubmit={onAdd}>
          <input
            aria-label="New task"
            placeholder="What needs doing?"
            value={title}
            maxLength={200}
            onChange={(e) => setTitle(e.target.value)}
          />
          <button type="submit">Add</button>
          <button type="button" className="secondary" onClick={() => void run(async () => setTasks(await listTasks()))}>
            Reload
          </button>
        </form>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {tasks === null ? (
          <p className="muted">Loading tasks…</p>
        ) : tasks.length === 0 ? (
          <p className="muted" data-testid="no-tasks">
            No tasks yet.
          </p>
        ) : (
          <ul className="tasks" data-testid="tasks">
            {tasks.map((task) => (
              <li key={task.id}>{task.title}</li>
            ))}
          </ul>
        )}
        {token && (
          <p className="token" data-testid="token" data-expires-at={token.expiresAt} data-session-id={token.sessionId}>
            Access token for the tasks API: expires at {new Date(token.expiresAt).toLocaleTimeString("en-GB")}, renewed
            automatically before then.
          </p>
        )}
      </section>
    </>
  );
}
