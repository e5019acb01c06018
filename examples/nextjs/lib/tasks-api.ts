// Calls to the FastAPI backend, each with `Authorization: Bearer <access token>`.
"use client";

import { forgetAccessToken, getAccessToken, SessionEndedError, type AccessToken } from "./access-token";
import { tasksApiUrl } from "./config";

export type Task = {
  id: string;
  userId: string;
  title: string;
  description: string;
  completed: boolean;
  createdAt: string;
  updatedAt: string;
};

/** The backend said no for another reason than the token (400, 403, 5xx…). */
export class TasksApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "TasksApiError";
  }
}

async function send(token: AccessToken, method: string, body?: unknown): Promise<Response> {
  return fetch(`${tasksApiUrl}/api/${encodeURIComponent(token.userId)}/tasks`, {
    method,
    headers: {
      authorization: `Bearer ${token.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    // the backend needs no cookie: the access token says who is calling
    credentials: "omit",
    cache: "no-store",
  });
}

async function call<T>(method: string, body?: unknown): Promise<T> {
  let res = await send(await getAccessToken(), method, body);
  if (res.status === 401) {
    // The backend refused the token: its session may have ended elsewhere (signed out,
    // revoked from another device). Ask Tessera for a new one; if the session is gone,
    // Tessera refuses too and getAccessToken throws SessionEndedError.
    forgetAccessToken();
    res = await send(await getAccessToken({ fresh: true }), method, body);
    if (res.status === 401) {
      forgetAccessToken();
      throw new SessionEndedError();
    }
  }
  if (!res.ok) {
    const problem = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new TasksApiError(res.status, problem?.message ?? `The tasks API answered ${res.status}`);
  }
  return (await res.json()) as T;
}

export const listTasks = () => call<Task[]>("GET");

export const createTask = (title: string) => call<Task>("POST", { title });
