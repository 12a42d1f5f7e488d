"""The local web page and its JSON API: the same pipeline, review and audit log as the CLI.

Binds 127.0.0.1 by default. Bound to any other address, every request must carry the token (an
`Authorization: Bearer` header, or `?token=` for the page). Pasted email text is data: the page
renders it with textContent only, and the server's templates escape everything.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..commitments import find_commitments
from ..errors import AssistantError, InputError
from ..loopback import is_loopback_host
from ..models import Classification, Commitment, DraftResult, LintReport, Text
from ..pipeline import Assistant
from ..prompts import html_templates
from ..review import Record, Review


class EmailIn(BaseModel):
    email: str = Field(description="The complaint: pasted text or a whole .eml file's contents.")


class LintIn(BaseModel):
    text: str
    record_id: str | None = Field(
        default=None, description="The draft under review, for its email's context."
    )
    email: str | None = Field(
        default=None,
        description="The complaint the reply answers, when no draft under review gives it.",
    )


class DraftOut(BaseModel):
    record_id: str
    result: DraftResult


class DismissIn(BaseModel):
    rule: str
    text: str
    reason: str


class ApproveIn(BaseModel):
    record_id: str
    reply: str
    override_reason: str | None = None
    dismissed: list[DismissIn] = Field(default_factory=list)
    confirmed: list[str] = Field(default_factory=list)
    """The commitments (their text) the agent confirms are done or will be done."""
    agent: str | None = None


class RejectIn(BaseModel):
    record_id: str
    reason: str


class RecordId(BaseModel):
    record_id: str


class ErrorOut(BaseModel):
    error: str


SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
]


class Guard:
    """The token check, the size limit and the security headers, as plain ASGI: Starlette's
    `BaseHTTPMiddleware` costs a task group and a memory stream on every request, and the page
    calls /api/lint on every pause in typing."""

    def __init__(
        self, app: ASGIApp, *, token: str | None, limit: int, hosts: frozenset[str]
    ) -> None:
        self.app = app
        self.token = token
        self.limit = limit
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._foreign(scope, headers)
        if refusal is not None:
            await JSONResponse({"error": refusal}, 403)(scope, receive, send)
            return
        if self.token is not None and not scope["path"].startswith("/static/"):
            given = headers.get("authorization", "").removeprefix("Bearer ").strip()
            given = given or QueryParams(scope["query_string"]).get("token", "")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                error = "This page needs its access token (printed when the server started)."
                await JSONResponse({"error": error}, 401)(scope, receive, send)
                return
        size = headers.get("content-length")
        if size and size.isdigit() and int(size) > self.limit:
            error = f"The request is {int(size):,} bytes, over the {self.limit:,}-byte limit."
            await JSONResponse({"error": error}, 413)(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            # However the body is sent (chunked has no length up front), no more than the limit
            # is read: the body is taken here, bounded, and handed on whole.
            body = await _bounded_body(receive, self.limit)
            if body is None:
                error = f"The request is over the {self.limit:,}-byte limit."
                await JSONResponse({"error": error}, 413)(scope, receive, send)
                return
            receive = _replay(body)

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, secured)

    def _foreign(self, scope: Scope, headers: Headers) -> str | None:
        """Why a request from another site's page is refused, or None. Without a token (bound to
        loopback) only this machine's own names may be the Host: a page elsewhere that rebinds
        its DNS name to 127.0.0.1 still sends its own name. A state-changing request from a page
        must come from the same origin it is sent to."""
        host = headers.get("host", "")
        if self.token is None and _hostname(host) not in self.hosts:
            return f"This server answers only to {', '.join(sorted(self.hosts))}, not {host!r}."
        origin = headers.get("origin")
        changes = scope["method"] not in ("GET", "HEAD", "OPTIONS")
        if changes and origin and urlsplit(origin).netloc.lower() != host.lower():
            return "Requests from another site's page are refused."
        return None


async def _bounded_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _hostname(host: str) -> str:
    """The name in a Host header, without its port."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


MAX_OPEN_REVIEWS = 500
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def create_app(
    assistant: Assistant, *, token: str | None = None, hosts: Iterable[str] = ()
) -> FastAPI:
    """`hosts`: names besides this machine's loopback ones that the page may be reached by."""
    app = FastAPI(
        title="Complaint reply assistant",
        description="Classify complaints, draft guideline-following replies, lint them, and record the agent's decision.",
        version="1",
    )
    # The drafts open on pages, newest last; the oldest are let go past the bound (each is in the
    # audit log as pending already, so nothing is lost).
    reviews: OrderedDict[str, Review] = OrderedDict()
    limit = assistant.settings.max_input_bytes * 2  # JSON escaping can double a pasted email

    app.add_middleware(
        Guard,
        token=token,
        limit=limit,
        hosts=LOOPBACK_NAMES | {h.lower() for h in (*hosts, *assistant.settings.web_hosts)},
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            {
                "error": f"The request is not valid: {where or 'body'}: {first.get('msg', 'invalid')}."
            },
            422,
        )

    @app.exception_handler(AssistantError)
    async def failed(_: Request, exc: AssistantError) -> JSONResponse:
        # Each error class carries its own status: 400 input, 409 approval refused, 429 rate
        # limited, 502 the model failed, 503 unreachable, 504 timed out, 500 configuration.
        return JSONResponse({"error": str(exc)}, exc.http_status)

    def within_limit(reply: str) -> None:
        if len(reply.encode("utf-8", "surrogatepass")) > assistant.settings.max_input_bytes:
            raise InputError("The reply is over the size limit.")

    def review_of(record_id: str) -> Review:
        review = reviews.get(record_id)
        if review is None:
            raise InputError(
                f"No draft {record_id} is open here; draft it again (it is kept in history as pending)."
            )
        return review

    responses: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorOut} for code in (400, 413, 422, 429, 502, 503, 504)
    }

    @app.post("/api/classify", response_model=Classification, responses=responses)
    async def classify(body: EmailIn) -> Classification:
        return await assistant.aclassify(body.email)

    @app.post("/api/draft", response_model=DraftOut, responses=responses)
    async def draft(body: EmailIn) -> DraftOut:
        result = await assistant.adraft(body.email)
        review = await asyncio.to_thread(assistant.review, result)
        reviews[review.record.id] = review
        while len(reviews) > MAX_OPEN_REVIEWS:
            reviews.popitem(last=False)
        return DraftOut(record_id=review.record.id, result=result)

    @app.post("/api/lint", response_model=LintReport, responses=responses)
    async def lint(body: LintIn) -> Response:
        within_limit(body.text)
        open_review = reviews.get(body.record_id) if body.record_id else None
        email: Text | None = open_review.result.email if open_review is not None else body.email
        # In a worker thread: a long reply must not hold up every other request. A draft under
        # review is held to the approval gate, as its approval will be.
        report = await assistant.alint(body.text, email=email, drafted=open_review is not None)
        return Response(report.model_dump_json(), media_type="application/json")

    @app.post("/api/commitments", response_model=list[Commitment], responses=responses)
    async def commitments(body: LintIn) -> list[Commitment]:
        """What a reply (as edited) promises or claims done: the page's checklist."""
        within_limit(body.text)
        return await asyncio.to_thread(find_commitments, body.text)

    @app.post(
        "/api/approve", response_model=Record, responses={**responses, 409: {"model": ErrorOut}}
    )
    async def approve(body: ApproveIn) -> Record:
        review = review_of(body.record_id)
        if body.agent:
            review.record.agent = body.agent
        record = review.approve(
            body.override_reason,
            reply=body.reply,
            dismissed=[(d.rule, d.text, d.reason) for d in body.dismissed],
            confirmed=body.confirmed,
        )
        reviews.pop(body.record_id, None)
        return record

    @app.post("/api/reject", response_model=Record, responses=responses)
    async def reject(body: RejectIn) -> Record:
        record = review_of(body.record_id).reject(body.reason)
        reviews.pop(body.record_id, None)
        return record

    @app.post("/api/regenerate", response_model=DraftOut, responses=responses)
    async def regenerate(body: RecordId) -> DraftOut:
        review = review_of(body.record_id)
        await asyncio.to_thread(review.regenerate)
        result = review.result.model_copy(
            update={"reply": review.reply, "lint": review.report, "commitments": review.commitments}
        )
        return DraftOut(record_id=review.record.id, result=result)

    @app.get("/api/history", response_model=list[Record])
    async def history(
        agent: str | None = None,
        category: str | None = None,
        decision: str | None = None,
        since: datetime | None = None,
        limit: int = Query(default=50, ge=1, le=1000),
    ) -> list[Record]:
        return assistant.history(
            agent=agent, category=category, decision=decision, since=since, limit=limit
        )

    pages = html_templates()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return pages.get_template("index.html.j2").render(company=assistant.settings.company)

    @app.get("/history", response_class=HTMLResponse, include_in_schema=False)
    async def history_page(decision: str | None = None) -> str:
        records = assistant.history(decision=decision, limit=100)
        return pages.get_template("history.html.j2").render(
            records=records, company=assistant.settings.company
        )

    static = files("assistant.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def access_token(host: str, configured: str | None) -> str | None:
    """None on loopback; otherwise the configured token, or a fresh one."""
    if is_loopback_host(host):
        return None
    return configured or secrets.token_urlsafe(24)
