"""A FastAPI tasks backend protected by Tessera's access tokens.

Run it against a Tessera server (see README.md):

    TESSERA_JWKS_URL=http://127.0.0.1:8080/api/auth/jwks \
        uvicorn tasks_api.main:create_app --factory --port 8000
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from tessera_verify import Claims
from tessera_verify.fastapi import install

from .auth import Settings, build, owner
from .store import TaskStore


class NewTask(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


def create_app(settings: Settings | None = None) -> FastAPI:
    verifier, feed = build(settings or Settings.from_env())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if feed is not None:
            feed.close()

    app = FastAPI(title="Tasks API (FastAPI + Tessera)", lifespan=lifespan)
    install(app, verifier)
    app.state.store = TaskStore()
    app.state.revocation_feed = feed

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {"loc": ["body"], "msg": "Invalid input"}
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse({"message": f"[{where}] {first['msg']}", "code": "VALIDATION_ERROR"}, status_code=400)

    @app.get("/api/{user_id}/tasks")
    def list_tasks(request: Request, user: Claims = Depends(owner)) -> list[dict]:
        return request.app.state.store.list(user.sub)

    @app.post("/api/{user_id}/tasks", status_code=201)
    def create_task(task: NewTask, request: Request, user: Claims = Depends(owner)) -> dict:
        # the owner is the token's subject, whatever the body says
        return request.app.state.store.add(user.sub, task.title, task.description)

    return app
