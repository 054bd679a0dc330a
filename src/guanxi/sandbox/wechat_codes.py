"""The sandbox's WeChat scene codes: QR codes, mini-program codes, URL Links, follows.

- ``cgi-bin/qrcode/create``: ``QR_STR_SCENE`` (``expire_seconds`` capped at 30 days, as
  WeChat does; 60 s when not given) and ``QR_LIMIT_STR_SCENE`` (at most
  ``permanent_qr_max`` an account); ``scene_str`` of 1 to 64 characters, else 40097.
- ``cgi-bin/showqrcode?ticket=``: a real PNG QR code of the ticket's ``url``.
- ``wxa/getwxacodeunlimit``: a real PNG (a QR code of the scene, where WeChat draws its round
  code); ``scene`` over 32 characters is 85096, ``width`` outside 280..1280 is 40097, more
  than ``wxacode_per_minute`` calls a minute is 44990.
- ``wxa/generate_urllink``: ``expire_interval`` 1..30 days (``expire_type`` 1) or an
  ``expire_time`` at most 30 days ahead (``expire_type`` 0), else 40097.
- ``cgi-bin/user/info``: ``subscribe_scene`` and ``qr_scene_str`` of a follower.
- ``POST /_sandbox/accounts/{app_id}/scan`` (sandbox only): someone scans a code, or follows
  another way: the follower is remembered and the ``subscribe`` (``EventKey=qrscene_<scene>``)
  or ``SCAN`` (``EventKey=<scene>``) event is pushed, signed, to the account's server URL,
  ``repeat`` times (WeChat's retries of one event).
"""

from __future__ import annotations

import io
import secrets
import time
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import segno
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from guanxi.sandbox.app import json_error, sandbox_of
from guanxi.sandbox.wechat_state import Follower, QrTicket, RefusedError

if TYPE_CHECKING:
    from guanxi.sandbox.wechat_state import WechatSandbox

TEMPORARY_MAX_S = 2_592_000
TEMPORARY_DEFAULT_S = 60
SCENE_STR_MAX = 64
WXA_SCENE_MAX = 32
WIDTH_RANGE = (280, 1280)
LINK_MAX_DAYS = 30
REPEAT_MAX = 5


def png_of(data: str) -> bytes:
    """A real QR code of ``data`` as PNG."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def scan_xml(app_id: str, openid: str, *, event: str, key: str, ticket: str, at: int) -> str:
    """A ``subscribe`` or ``SCAN`` event as WeChat pushes it."""
    key_xml = f"<EventKey><![CDATA[{escape(key)}]]></EventKey>" if key or event == "SCAN" else ""
    ticket_xml = f"<Ticket><![CDATA[{escape(ticket)}]]></Ticket>" if ticket else ""
    return (
        f"<xml><ToUserName><![CDATA[gh_{app_id[2:14]}]]></ToUserName>"
        f"<FromUserName><![CDATA[{escape(openid)}]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{key_xml}{ticket_xml}</xml>"
    )


def _int(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not str(value).lstrip("-").isdigit():
        raise RefusedError(47001, "data format error")
    return int(value)


def register(router: APIRouter, wechat: WechatSandbox) -> None:  # noqa: PLR0915 - one closure per route
    """Add the scene-code endpoints to the WeChat surface's router."""
    from guanxi.sandbox.wechat import _json_body, _refusals_answered  # noqa: PLC0415 - cycle: wechat imports this module

    @router.post("/cgi-bin/qrcode/create")
    @_refusals_answered
    async def qrcode_create(request: Request) -> Any:
        app_id = wechat.authorize(request, "qrcode_create")
        body = await _json_body(request)
        action = body.get("action_name")
        info = body.get("action_info")
        scene_info = info.get("scene") if isinstance(info, dict) else None
        scene = scene_info.get("scene_str") if isinstance(scene_info, dict) else None
        if action not in {"QR_STR_SCENE", "QR_LIMIT_STR_SCENE"} or not isinstance(scene, str):
            raise RefusedError(40097, "invalid args")
        if not 1 <= len(scene) <= SCENE_STR_MAX:
            raise RefusedError(40097, "invalid args: scene_str length 1..64")
        ticket = "gQ" + secrets.token_urlsafe(40)
        url = f"http://weixin.qq.com/q/{secrets.token_urlsafe(16)}"
        with wechat.lock:
            if action == "QR_LIMIT_STR_SCENE":
                made = {
                    t.scene
                    for t in wechat.tickets.values()
                    if t.app_id == app_id and t.expires_at is None
                }
                if scene not in made and len(made) >= wechat.limits.permanent_qr_max:
                    raise RefusedError(40097, "invalid args: permanent qrcode limit reached")
                wechat.tickets[ticket] = QrTicket(app_id, scene, url, None)
                return {"ticket": ticket, "url": url}
            lifetime = min(_int(body.get("expire_seconds"), TEMPORARY_DEFAULT_S), TEMPORARY_MAX_S)
            if lifetime < 1:
                raise RefusedError(40097, "invalid args: expire_seconds")
            wechat.tickets[ticket] = QrTicket(app_id, scene, url, time.time() + lifetime)
        return {"ticket": ticket, "expire_seconds": lifetime, "url": url}

    @router.get("/cgi-bin/showqrcode")
    def showqrcode(ticket: str = "") -> Response:
        with wechat.lock:
            found = wechat.tickets.get(ticket)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return Response(status_code=404)
        return Response(png_of(found.url), media_type="image/png")

    @router.post("/wxa/getwxacodeunlimit")
    @_refusals_answered
    async def wxacode(request: Request) -> Any:
        app_id = wechat.authorize(request, "getwxacodeunlimit")
        body = await _json_body(request)
        limiter = sandbox_of(request).limiter
        if not limiter.hit(
            f"wxacode:{app_id}", limit=wechat.limits.wxacode_per_minute, window_s=60
        ):
            raise RefusedError(44990, "reach max api minute quota limit (5000 per minute)")
        scene = body.get("scene")
        if not isinstance(scene, str) or not scene:
            raise RefusedError(40097, "invalid args: scene")
        if len(scene) > WXA_SCENE_MAX:
            raise RefusedError(85096, "scene too long (at most 32 visible characters)")
        width = _int(body.get("width"), 430)
        if not WIDTH_RANGE[0] <= width <= WIDTH_RANGE[1]:
            raise RefusedError(40097, "invalid args: width 280..1280")
        return Response(png_of(scene), media_type="image/png")

    @router.post("/wxa/generate_urllink")
    @_refusals_answered
    async def urllink(request: Request) -> Any:
        wechat.authorize(request, "generate_urllink")
        body = await _json_body(request)
        kind = _int(body.get("expire_type"), 0)
        if kind == 1:
            days = _int(body.get("expire_interval"), 0)
            if not 1 <= days <= LINK_MAX_DAYS:
                raise RefusedError(40097, "invalid args: expire_interval 1..30")
        else:
            ahead = _int(body.get("expire_time"), 0) - time.time()
            if not 0 < ahead <= LINK_MAX_DAYS * 86_400:
                raise RefusedError(40097, "invalid args: expire_time within 30 days")
        return {
            "errcode": 0,
            "errmsg": "ok",
            "url_link": f"https://wxaurl.cn/{secrets.token_urlsafe(9)}",
        }

    @router.get("/cgi-bin/user/info")
    @_refusals_answered
    async def user_info(request: Request, openid: str = "") -> Any:
        app_id = wechat.authorize(request, "user_info")
        with wechat.lock:
            follower = wechat.followers.get((app_id, openid))
        if not openid:
            raise RefusedError(40003, "invalid openid")
        if follower is None:
            return {"subscribe": 0, "openid": openid}
        return {
            "subscribe": 1,
            "openid": openid,
            "language": "zh_CN",
            "subscribe_time": follower.subscribe_time,
            "subscribe_scene": follower.subscribe_scene,
            "qr_scene": 0,
            "qr_scene_str": follower.qr_scene_str,
        }

    @router.post("/_sandbox/accounts/{app_id}/scan")
    async def scan(request: Request, app_id: str) -> Any:
        """``{"openid", "ticket"}`` (or ``"scene"`` with ``"with_event_key": false``: a follow
        another way), ``"at"`` (unix s), ``"repeat"``: push the event that many times."""
        body = await request.json()
        openid = str(body.get("openid", ""))
        if app_id not in wechat.accounts or not openid:
            return json_error(400, {"detail": "unknown AppID, or no openid"})
        with wechat.lock:
            found = wechat.tickets.get(str(body.get("ticket", "")))
            scene = found.scene if found is not None else str(body.get("scene", ""))
            at = int(body.get("at") or time.time())
            follower = wechat.followers.get((app_id, openid))
            event = "SCAN" if follower is not None else "subscribe"
            if follower is None:
                source = "ADD_SCENE_QR_CODE" if scene else "ADD_SCENE_SEARCH"
                wechat.followers[(app_id, openid)] = Follower(at, source, scene)
            account = wechat.accounts[app_id]
            url, token = account.server_url, account.server_token
        with_key = bool(body.get("with_event_key", True)) and found is not None
        key = (scene if event == "SCAN" else f"qrscene_{scene}") if with_key else ""
        ticket = str(body.get("ticket", "")) if with_key else ""
        xml = scan_xml(app_id, openid, event=event, key=key, ticket=ticket, at=at)
        repeat = max(1, min(int(body.get("repeat", 1)), REPEAT_MAX))
        statuses = [
            (await wechat.push(url, token, xml)).status_code for _ in range(repeat if url else 0)
        ]
        return JSONResponse({"event": event, "scene": scene, "pushed": statuses})
