"""The FastAPI application: middleware, error pages, and every capability's routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import FunctionType

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from guanxi import __version__
from guanxi.core import i18n
from guanxi.core.capability import capabilities, load_reference
from guanxi.core.db import make_engine, make_session_factory, writing
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Mode, Settings, get_settings
from guanxi.shell import views
from guanxi.web.admission import RequestSlots
from guanxi.web.deps import LoginRequiredError, TwoFactorRequiredError, ensure_csrf_token
from guanxi.web.limits import BodySizeLimit, integers_within_database_range, no_nul_in_text
from guanxi.web.openapi import describe_api
from guanxi.web.rendering import TEMPLATES_DIR, make_templates, render
from guanxi.web.routing import skip_unmatchable
from guanxi.web.security import SecurityHeadersMiddleware
from guanxi.web.timing import ServerTimingMiddleware

STATIC_DIR = TEMPLATES_DIR.parent / "static"
SESSION_COOKIE = "guanxi_session"
# What a page says for the HTTP errors the framework raises itself (unknown path, method).
HTTP_ERROR_MESSAGES = {
    404: N_("This page does not exist. Check the address, or start again from the home page."),
    405: N_("This address does not accept that kind of request. Go back and use the page's form."),
}
UNEXPECTED_ERROR = N_(
    "Something went wrong on our side. Reload the page to see whether your last change "
    "was saved, and try again in a moment."
)


class GuanxiApp(FastAPI):
    """FastAPI with the security headers outside every other layer, error pages included,
    and its routers' matching sped up (``web.routing``)."""

    def build_middleware_stack(self) -> ASGIApp:
        # Built on the first request, when every router is included.
        skip_unmatchable(self)
        settings: Settings = self.state.settings
        return SecurityHeadersMiddleware(
            super().build_middleware_stack(), https_only=settings.mode is Mode.PRODUCTION
        )


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """Build the application for ``settings`` (the environment's when not given)."""
    settings = settings or get_settings()
    if session_factory is None:
        engine = make_engine(
            settings.resolved_database_url, connections=settings.web_threads, explicit_begin=True
        )
        session_factory = make_session_factory(engine)
    app = GuanxiApp(
        title="guanxi",
        version=__version__,
        description="Command center for brands on Chinese social media. "
        "Authenticate with `Authorization: Bearer <API token>`.",
        docs_url=None,  # served by the shell from the vendored Swagger UI
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(integers_within_database_range), Depends(no_nul_in_text)],
        lifespan=_request_threads(settings.web_threads),
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.writing_sessions = writing(session_factory)
    app.state.templates = make_templates()
    app.add_middleware(BodySizeLimit)  # innermost: it answers in the request's language

    app.add_middleware(LanguageAndCsrf, default_language=settings.default_language)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_days * 24 * 3600,
        same_site="lax",
        https_only=settings.mode is Mode.PRODUCTION,
    )
    # Inside the timing: the wait for a slot counts in the Server-Timing "app" time.
    app.add_middleware(RequestSlots, slots=settings.web_threads)
    # Outermost: its "app" time covers every other middleware.
    app.add_middleware(ServerTimingMiddleware, slow_request_ms=settings.slow_request_ms)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.include_router(views.router)
    for capability in capabilities():
        for reference in capability.routers:
            app.include_router(load_reference(reference, APIRouter))
        for reference in capability.api_routers:  # each carries its /api/v1 prefix and auth
            app.include_router(load_reference(reference, APIRouter))
        for reference in capability.on_app_created:
            load_reference(reference, FunctionType)(app)

    _install_error_handlers(app)
    describe_api(app)
    return app


class LanguageAndCsrf:
    """Each request's language (the session's choice, else the browser's) and CSRF token,
    on ``request.state``. Plain ASGI: a ``BaseHTTPMiddleware`` costs every request a task
    and a stream."""

    def __init__(self, app: ASGIApp, *, default_language: str) -> None:
        self.app = app
        self.default_language = default_language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            request.state.language = i18n.normalize_language(
                request.session.get("language")
            ) or i18n.negotiate_language(
                request.headers.get("accept-language"), self.default_language
            )
            i18n.begin_request(request.state.language)
            request.state.csrf_token = ensure_csrf_token(request)
        await self.app(scope, receive, send)


def _request_threads(threads: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The lifespan that gives the process ``threads`` request threads (as many as its
    database connections: a request waits for a thread, never for a connection)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    async def login_required(request: Request, _exc: LoginRequiredError) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(TwoFactorRequiredError)
    async def two_factor_required(request: Request, _exc: TwoFactorRequiredError) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=403, headers={"HX-Redirect": "/me#two-factor"})
        return RedirectResponse("/me#two-factor", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or exc.status_code not in HTTP_ERROR_MESSAGES:
            return await http_exception_handler(request, exc)
        i18n.set_language(getattr(request.state, "language", "en"))
        message = i18n.gettext(HTTP_ERROR_MESSAGES[exc.status_code])
        return render(
            request,
            "error.html",
            {"message": message, "problems": []},
            status_code=exc.status_code,
        )

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        i18n.set_language(getattr(request.state, "language", "en"))
        message = exc.translated(i18n.gettext)
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=exc.status_code)
        return render(
            request, "error.html", {"message": message, "problems": []}, status_code=exc.status_code
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, _exc: Exception) -> Response:
        # The traceback goes to the server log (the error middleware re-raises), never to the page.
        i18n.set_language(getattr(request.state, "language", "en"))
        message = i18n.gettext(UNEXPECTED_ERROR)
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=500)
        # The failure may be the database's: show the page without the signed-in navigation.
        request.state.user, request.state.membership, request.state.memberships = None, None, []
        return render(request, "error.html", {"message": message, "problems": []}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        i18n.set_language(getattr(request.state, "language", "en"))
        problems = [
            {"field": ".".join(str(part) for part in error["loc"][1:]), "message": error["msg"]}
            for error in exc.errors()
        ]
        message = i18n.gettext("The request is not valid. Correct the fields listed and retry.")
        if _is_api(request):
            return JSONResponse({"detail": message, "errors": problems}, status_code=422)
        return render(
            request, "error.html", {"message": message, "problems": problems}, status_code=422
        )
