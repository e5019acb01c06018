"""A FastAPI tasks backend protected by Tessera's access tokens.

Run it against a Tessera server (see README.md):

    TESSERA_JWKS_URL=http://127.0.0.1:8080/api/auth/jwks \
        uvicorn tasks_api.main:create_app --factory --port 8000

A browser app on another origin (e.g. the Next.js example on http://127.0.0.1:3000) may
call it when that origin is listed in CORS_ALLOW_ORIGINS (comma-separated).
"""

from __future__ import annotations

import os

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .auth import ApiError, Settings, TokenVerifier, User, owner
from .store import TaskStore


class NewTask(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


def cors_origins_from_env() -> list[str]:
    """CORS_ALLOW_ORIGINS: the browser origins allowed to call this API, comma-separated."""
    raw = os.environ.get("CORS_ALLOW_ORIGINS", "")
    return [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]


def create_app(settings: Settings | None = None, cors_origins: list[str] | None = None) -> FastAPI:
    app = FastAPI(title="Tasks API (FastAPI + Tessera)")
    origins = cors_origins if cors_origins is not None else cors_origins_from_env()
    if origins:
        # Browsers send the access token in Authorization, never a cookie: no credentials.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
            max_age=600,
        )
    app.state.verifier = TokenVerifier(settings or Settings.from_env())
    app.state.store = TaskStore()

    @app.exception_handler(ApiError)
    async def api_error(_: Request, e: ApiError) -> JSONResponse:
        return JSONResponse({"message": e.message, "code": e.code}, status_code=e.status, headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {"loc": ["body"], "msg": "Invalid input"}
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse({"message": f"[{where}] {first['msg']}", "code": "VALIDATION_ERROR"}, status_code=400)

    @app.get("/api/{user_id}/tasks")
    def list_tasks(request: Request, user: User = Depends(owner)) -> list[dict]:
        return request.app.state.store.list(user.id)

    @app.post("/api/{user_id}/tasks", status_code=201)
    def create_task(task: NewTask, request: Request, user: User = Depends(owner)) -> dict:
        # the owner is the token's subject, whatever the body says
        return request.app.state.store.add(user.id, task.title, task.description)

    return app
