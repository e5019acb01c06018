"""The FastAPI + PyJWT peer of Tessera's benchmark: the same `GET /api/{user_id}/tasks`.

What it does per request is what Tessera's tasks API does: take the Bearer token, verify it
with PyJWT (HS256 only, `exp` required, `iss` and `aud` checked, 30 s leeway), refuse a
token whose `sub` is not the route's `user_id` (403), then read the caller's tasks from the
SQLite file (the same query, page of 50) and answer them as camelCase JSON with ISO-8601
millisecond timestamps. It is written as a FastAPI developer would write it for speed:
an `async def` route (no thread-pool hop), one SQLite connection per worker, a plain
`JSONResponse` (no response-model validation), run by uvicorn with uvloop and httptools.

Environment: PEER_DB (SQLite path, opened read-only), PEER_JWT_SECRET, PEER_ISSUER,
PEER_AUDIENCE.
"""

import os
import sqlite3
from datetime import datetime, timezone

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SECRET = os.environ["PEER_JWT_SECRET"]
ISSUER = os.environ["PEER_ISSUER"]
AUDIENCE = os.environ["PEER_AUDIENCE"]

db = sqlite3.connect(f"file:{os.environ['PEER_DB']}?mode=ro", uri=True, check_same_thread=False)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

QUERY = (
    "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks "
    "WHERE user_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?"
)


def iso_millis(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def unauthorized(error: str | None = None) -> JSONResponse:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return JSONResponse(
        {"message": "Unauthorized", "code": "UNAUTHORIZED"},
        status_code=401,
        headers={"WWW-Authenticate": challenge},
    )


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.get("/api/{user_id}/tasks")
async def list_tasks(user_id: str, request: Request, limit: int = 50, offset: int = 0):
    header = request.headers.get("authorization", "")
    if not header[:7].lower() == "bearer ":
        return unauthorized()
    try:
        claims = jwt.decode(
            header[7:].strip(),
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=30,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError:
        return unauthorized("invalid_token")
    if claims["sub"] != user_id:
        return JSONResponse({"message": "Forbidden", "code": "FORBIDDEN"}, status_code=403)
    if not (1 <= limit <= 100 and 0 <= offset <= 1_000_000):
        return JSONResponse({"message": "bad page", "code": "VALIDATION_ERROR"}, status_code=400)
    rows = db.execute(QUERY, (user_id, limit, offset)).fetchall()
    return JSONResponse(
        [
            {
                "id": r[0],
                "userId": r[1],
                "title": r[2],
                "description": r[3],
                "completed": bool(r[4]),
                "createdAt": iso_millis(r[5]),
                "updatedAt": iso_millis(r[6]),
            }
            for r in rows
        ]
    )
