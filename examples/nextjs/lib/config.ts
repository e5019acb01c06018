// Where the two other services live. NEXT_PUBLIC_* values are read by `next build` and
// written into the browser bundle, so set them before building (see README.md).

function required(name: string, value: string | undefined): string {
  if (!value) {
    throw new Error(`${name} is not set: see examples/nextjs/README.md`);
  }
  // "http://127.0.0.1:8080/" and "http://127.0.0.1:8080" mean the same service
  return value.replace(/\/+$/, "");
}

/** Tessera's base URL: the Better Auth client talks to `${tesseraUrl}/api/auth/*`. */
export const tesseraUrl = required("NEXT_PUBLIC_TESSERA_URL", process.env.NEXT_PUBLIC_TESSERA_URL);

/** The FastAPI backend that serves `/api/{user_id}/tasks`. */
export const tasksApiUrl = required("NEXT_PUBLIC_TASKS_API_URL", process.env.NEXT_PUBLIC_TASKS_API_URL);
