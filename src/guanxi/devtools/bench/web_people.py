"""The people of ``guanxi bench web``: each signs in through the real form, then works.

Everyone reads (pages, HTMX partials, chart APIs); writes follow what each role may do
(notes, assignments, replies, drafts submitted for review, approvals), one after another
with a think time, until the run's ``Budget`` (a deadline, optionally a number of
requests) is spent. Every request is timed and recorded as a ``Sample``, with the cause of
a failure.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

from guanxi.accounts.models import Role
from guanxi.devtools.bench.common import Progress
from guanxi.devtools.bench.web_client import ClientError, LoopbackClient, Response
from guanxi.devtools.bench.web_cpu import CpuMeter, CpuReport
from guanxi.devtools.bench.web_data import PERSON_PASSWORD, BenchData, Person
from guanxi.devtools.bench.web_results import Sample, WebBenchConfig, WebBenchResult
from guanxi.sandbox.weibo import DEMO_SAFE_DOMAIN

REQUEST_TIMEOUT_S = 60.0
SIGN_INS_AT_ONCE = 4
# A kept-alive connection idle this long is not reused: uvicorn closes it after 5 s idle.
KEEPALIVE_S = 4.0
CHART_PANELS = ("volume", "sentiment", "share-of-voice", "source-kinds", "stages", "platforms")
_CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
_DECIDE = re.compile(r'action="([^"]*/variants/\d+)/decide"')
_POST_ID = re.compile(r"/posts/(\d+)")
_ALERT = re.compile(r'role="alert"[^>]*>([^<]+)<')


# (action, weight) per role: everyone reads; writes follow what each role may do.
READS: tuple[tuple[str, int], ...] = (
    ("overview", 2),
    ("inbox", 3),
    ("inbox-poll", 3),
    ("inbox-thread", 3),
    ("dashboard", 2),
    ("chart-api", 3),
    ("dashboard-posts", 1),
    ("calendar", 1),
    ("posts", 1),
    ("post", 1),
    ("market", 1),
)
WRITES: dict[Role, tuple[tuple[str, int], ...]] = {
    Role.OWNER: (("note", 1), ("assign", 1)),
    Role.MANAGER: (("note", 1), ("assign", 1), ("approval", 2)),
    Role.EDITOR: (("note", 1), ("reply", 1), ("draft", 2)),
    Role.ANALYST: (),
}


class Budget:
    """The run's bounds: a deadline and, optionally, a number of requests."""

    def __init__(self, *, seconds: float, max_requests: int) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.left = max_requests if max_requests > 0 else -1

    def restart(self) -> None:
        """The working time starts now (after the sign-ins)."""
        self.deadline = time.monotonic() + self.seconds

    def take(self) -> bool:
        """Whether one more request may start (and count it)."""
        if time.monotonic() >= self.deadline or self.left == 0:
            return False
        if self.left > 0:
            self.left -= 1
        return True


@dataclass
class Shared:
    """What the simulated people share: the data's ids, the budget, posts awaiting review."""

    data: BenchData
    budget: Budget
    think_s: float
    samples: list[Sample] = field(default_factory=list)
    in_review: list[int] = field(default_factory=list)


class Browser:
    """One signed-in person: their own cookies, their CSRF token, their requests timed."""

    def __init__(self, person: Person, shared: Shared, base_url: str, rng: random.Random) -> None:
        self.person, self.shared, self.rng = person, shared, rng
        self.client = LoopbackClient(base_url, timeout_s=REQUEST_TIMEOUT_S, keepalive_s=KEEPALIVE_S)
        self.csrf = ""
        self.slug = shared.data.slug

    async def request(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        htmx: bool = False,
    ) -> Response | None:
        """Make one request and record it; None when it failed (the cause is recorded)."""
        headers = {"HX-Request": "true"} if htmx else {}
        if data is not None:
            data = {**data, "csrf_token": self.csrf}
        started = time.perf_counter()
        error = ""
        response = None
        try:
            response = await self.client.request(method, url, data=data, headers=headers)
            error = _failure(response)
        except ClientError as exc:
            error = str(exc)
        ms = (time.perf_counter() - started) * 1000
        self.shared.samples.append(
            Sample(
                kind=kind,
                role=self.person.role,
                ms=ms,
                error=f"{method} {url}: {error}" if error else "",
            )
        )
        if error or response is None:
            return None
        found = _CSRF.search(response.content)  # the bytes: no need to decode every page
        if found:
            self.csrf = found.group(1).decode()
        return response

    async def sign_in(self) -> bool:
        """Through the real form: the page (and its CSRF token), then the post."""
        if await self.request("sign-in", "GET", "/login") is None:
            return False
        signed = await self.request(
            "sign-in",
            "POST",
            "/login",
            data={
                "email": self.person.email,
                "password": PERSON_PASSWORD,
                "next": f"/w/{self.slug}/",
            },
        )
        return (
            signed is not None
            and await self.request("overview", "GET", f"/w/{self.slug}/") is not None
        )

    async def work(self, *, signed_in: bool) -> None:
        """One action after another with a think time, until the budget ends."""
        try:
            if not signed_in:
                return
            if self.shared.think_s > 0:  # people start over the first think time, not at once
                await asyncio.sleep(self.rng.uniform(0, self.shared.think_s))
            actions = [*READS, *WRITES[self.person.role]]
            names = [name for name, _ in actions]
            weights = [weight for _, weight in actions]
            # Each of the role's tasks once first (every run writes), then at random.
            first = [name for name, _ in WRITES[self.person.role]]
            while self.shared.budget.take():
                await self.act(first.pop(0) if first else self.rng.choices(names, weights)[0])
                if self.shared.think_s > 0:
                    think = self.shared.think_s * self.rng.uniform(0.5, 1.5)
                    await asyncio.sleep(min(think, self.shared.budget.deadline - time.monotonic()))
        finally:
            await self.client.aclose()

    def page(self, action: str) -> tuple[str, bool]:
        """The address a read action opens, and whether HTMX asks for it (a partial)."""
        w, data, rng = f"/w/{self.slug}", self.shared.data, self.rng
        pages = {
            "overview": (f"{w}/", False),
            "inbox": (f"{w}/inbox", False),
            "inbox-poll": (f"{w}/inbox/poll?after={max(data.item_ids)}", True),
            "inbox-thread": (f"{w}/inbox/items/{rng.choice(data.item_ids)}", False),
            "dashboard": (f"{w}/listen/dashboard", False),
            "chart-api": (f"/api/v1{w}/listen/dashboard/{rng.choice(CHART_PANELS)}", False),
            "dashboard-posts": (f"{w}/listen/dashboard/posts", True),
            "calendar": (f"{w}/calendar", False),
            "posts": (f"{w}/publish", False),
            "post": (f"{w}/posts/{rng.choice(data.post_ids)}", False),
            "market": (f"{w}/market", False),
        }
        return pages[action]

    async def act(self, action: str) -> None:
        """One thing a community manager does."""
        w, data, rng = f"/w/{self.slug}", self.shared.data, self.rng
        item = f"{w}/inbox/items/{rng.choice(data.item_ids)}"
        if action == "note":
            await self.request(
                action, "POST", f"{item}/note", data={"text": f"bench note {rng.randrange(10**6)}"}
            )
        elif action == "assign":
            assignee = rng.choice(
                [p for p in data.people if p.role is not Role.ANALYST] or data.people
            ).user_id
            await self.request(
                action, "POST", f"{item}/update", data={"action": "assign", "value": str(assignee)}
            )
        elif action == "reply":  # recorded as posted by hand: the bench's items are not live
            await self.request(
                action,
                "POST",
                f"{item}/reply",
                data={"text": f"谢谢您的留言 {rng.randrange(10**6)}", "manual": "1"},
            )
        elif action == "draft":
            await self.draft()
        elif action == "approval":
            await self.approve()
        else:
            url, htmx = self.page(action)
            await self.request(action, "GET", url, htmx=htmx)

    async def draft(self) -> None:
        """A post for one account, submitted for review (a manager approves it later)."""
        if not self.shared.data.draft_channel_ids:
            return
        created = await self.request(
            "draft",
            "POST",
            f"/w/{self.slug}/publish/new",
            data={
                "title": f"bench draft {self.rng.randrange(10**6)}",
                # Passes the checks: no absolute term, a link to the Weibo app's safe domain.
                "body": f"普罗旺斯桃红葡萄酒，夏日的清爽之选。详情 https://{DEMO_SAFE_DOMAIN}/bench",
                "channels": str(self.rng.choice(self.shared.data.draft_channel_ids)),
            },
        )
        found = _POST_ID.search(created.headers.get("location", "")) if created else None
        if found is None:
            return
        post_id = int(found.group(1))
        if (
            await self.request("draft", "POST", f"/w/{self.slug}/posts/{post_id}/submit", data={})
            is not None
        ):
            self.shared.in_review.append(post_id)

    async def approve(self) -> None:
        """The oldest post waiting for review: open it, approve its variants' next step."""
        if not self.shared.in_review:
            await self.request(
                "post", "GET", f"/w/{self.slug}/posts/{self.rng.choice(self.shared.data.post_ids)}"
            )
            return
        post_id = self.shared.in_review.pop(0)
        page = await self.request("post", "GET", f"/w/{self.slug}/posts/{post_id}")
        if page is None:
            return
        decisions = _DECIDE.findall(page.text)
        if not decisions:  # submitted, not decided by anyone else: the form must be there
            self.shared.samples.append(
                Sample(
                    kind="approval",
                    role=self.person.role,
                    ms=0.0,
                    error=f"GET /w/{self.slug}/posts/{post_id}: no approval form on a post in "
                    f"review ({_first_line(page.text)})",
                )
            )
        for action in decisions:
            await self.request(
                "approval",
                "POST",
                f"{action}/decide",
                data={"decision": "approve", "comment": "好"},
            )


def _failure(response: Response) -> str:
    """Why a response is a failure for a person, or "" (a redirect to sign-in is one)."""
    if response.status_code >= 400:
        return f"{response.status_code} {_first_line(response.text)}"
    location = response.headers.get("location", "")
    if response.is_redirect and location.startswith("/login"):
        return f"{response.status_code} signed out (redirected to {location})"
    return ""


def _first_line(body: str) -> str:
    """The message of an error page (its alert), else the body's first line."""
    alert = _ALERT.search(body)
    if alert:
        return " ".join(alert.group(1).split())[:200]
    lines = body.strip().splitlines()
    return lines[0][:200] if lines else ""


async def simulate(
    data: BenchData,
    *,
    base_url: str,
    config: WebBenchConfig,
    progress: Progress,
    cpu: CpuMeter | None = None,
) -> WebBenchResult:
    """Every person at once, until the budget is spent; ``progress`` sees the seconds and
    ``cpu`` measures the stack's processes over the working time."""
    shared = Shared(
        data=data,
        budget=Budget(seconds=config.seconds, max_requests=config.max_requests),
        think_s=config.think_s,
    )
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible mix, not secrets
    browsers = [
        Browser(person, shared, base_url, random.Random(rng.random()))  # noqa: S311
        for person in data.people[: config.people]
    ]
    signed_in = await _sign_everyone_in(browsers, progress)
    sign_ins, shared.samples = shared.samples, []
    shared.budget.restart()
    if cpu is not None:
        cpu.start()
    started = time.monotonic()
    tasks = [
        asyncio.create_task(browser.work(signed_in=ok))
        for browser, ok in zip(browsers, signed_in, strict=True)
    ]
    total = round(config.seconds)
    while not all(task.done() for task in tasks):
        progress("load (s)", min(total, round(time.monotonic() - started)), total)
        await asyncio.wait(tasks, timeout=0.5)
    elapsed_s = time.monotonic() - started
    report = cpu.stop() if cpu is not None else CpuReport()
    progress("load (s)", total, total)
    for task in tasks:
        task.result()  # a bug in the generator surfaces instead of hiding in the figures
    return WebBenchResult(
        people=len(browsers),
        elapsed_s=elapsed_s,
        samples=shared.samples,
        sign_ins=sign_ins,
        cpu=report,
    )


async def _sign_everyone_in(browsers: list[Browser], progress: Progress) -> list[bool]:
    """Each person through the sign-in form, a few at a time (each costs a password hash)."""
    gate = asyncio.Semaphore(SIGN_INS_AT_ONCE)
    done = 0

    async def one(browser: Browser) -> bool:
        nonlocal done
        async with gate:
            ok = await browser.sign_in()
        done += 1
        progress("sign-in", done, len(browsers))
        return ok

    return list(await asyncio.gather(*(one(browser) for browser in browsers)))
