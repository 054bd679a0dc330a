"""WeChat scene codes, a mixin of the Official Account connector.

- ``qrcode/create``: ``QR_STR_SCENE`` (temporary, at most 30 days) and
  ``QR_LIMIT_STR_SCENE`` (permanent, at most 100,000 an account, ever), with a ``scene_str``
  of 1 to 64 characters; the image is ``mp.weixin.qq.com/cgi-bin/showqrcode?ticket=``.
  Following through one sends ``subscribe`` with ``EventKey=qrscene_<scene>``, scanning
  it as a follower sends ``SCAN`` with ``EventKey=<scene>`` (``guanxi.connectors.wechat_push``).
- ``wxa/getwxacodeunlimit``: a mini-program code (no count limit, 5,000 calls a minute,
  error 44990) whose ``scene`` holds at most 32 visible characters (error 85096).
- ``wxa/generate_urllink``: a link into the mini program that lives at most 30 days.
- ``user/info``: ``subscribe_scene`` and ``qr_scene_str``, how a follower came.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from guanxi.connectors.base import ChannelContext, TransientError
from guanxi.connectors.scene_codes import FollowerOrigin, IssuedLink, IssuedQr, SceneCodeLimits
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

SCENE_CODE_LIMITS = SceneCodeLimits(
    scene_max=64,
    temporary_max_s=2_592_000,
    permanent_max=100_000,
    miniprogram_scene_max=32,
    miniprogram_width_min=280,
    miniprogram_width_max=1280,
    link_max_days=30,
)
MSG_NO_IMAGE = N_("WeChat did not hand out the QR code's image ({status}). Try again shortly.")
FOLLOWER_SOURCES = {"ADD_SCENE_QR_CODE": "qr_code"}  # the others are kept as WeChat names them


class _WechatCalls(Protocol):
    _base: str
    _http: httpx.Client

    def _call(
        self,
        channel: ChannelContext,
        path: str,
        *,
        sent_means_unknown: bool = False,
        method: str = "POST",
        **kwargs: Any,
    ) -> dict[str, Any]: ...

    def _call_for_image(
        self, channel: ChannelContext, path: str, body: dict[str, Any]
    ) -> bytes: ...


def showqrcode_base(api_base: str) -> str:
    """Where QR images are served: WeChat's ``mp`` host, or the sandbox's API base."""
    return api_base.replace("://api.weixin.qq.com", "://mp.weixin.qq.com")


class WechatCodes:
    """Scene QR codes, mini-program codes and URL Links; mixed into ``WechatOaConnector``."""

    scene_code_limits = SCENE_CODE_LIMITS

    def create_qr(
        self: _WechatCalls,
        channel: ChannelContext,
        *,
        scene: str,
        permanent: bool,
        expire_seconds: int,
    ) -> IssuedQr:
        """A temporary (``QR_STR_SCENE``) or permanent (``QR_LIMIT_STR_SCENE``) QR code."""
        body: dict[str, Any] = {
            "action_name": "QR_LIMIT_STR_SCENE" if permanent else "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        if not permanent:
            body["expire_seconds"] = expire_seconds
        data = self._call(channel, "/cgi-bin/qrcode/create", body=body)
        lifetime = values.optional_count(data.get("expire_seconds")) if not permanent else None
        return IssuedQr(
            ticket=str(data.get("ticket", "")),
            url=str(data.get("url", "")),
            expires_at=utcnow() + timedelta(seconds=lifetime) if lifetime else None,
        )

    def qr_image(self: _WechatCalls, ticket: str) -> bytes:
        """The QR code's PNG (``showqrcode`` needs no token: the ticket is the key)."""
        url = f"{showqrcode_base(self._base)}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"
        try:
            response = self._http.get(url)
        except httpx.TransportError as exc:
            raise TransientError(MSG_NO_IMAGE, code="network", status=type(exc).__name__) from exc
        if response.status_code != 200 or not response.content.startswith(b"\x89PNG"):
            raise TransientError(
                MSG_NO_IMAGE, code=str(response.status_code), status=str(response.status_code)
            )
        return response.content

    def miniprogram_code(
        self: _WechatCalls, channel: ChannelContext, *, scene: str, page: str, width: int
    ) -> bytes:
        """The mini-program code's image (``getwxacodeunlimit``)."""
        body: dict[str, Any] = {"scene": scene, "width": width, "check_path": False}
        if page:
            body["page"] = page
        return self._call_for_image(channel, "/wxa/getwxacodeunlimit", body)

    def url_link(
        self: _WechatCalls, channel: ChannelContext, *, path: str, query: str, expire_days: int
    ) -> IssuedLink:
        """A URL Link valid ``expire_days`` days (``expire_type`` 1: an interval)."""
        body: dict[str, Any] = {"expire_type": 1, "expire_interval": expire_days}
        if path:
            body["path"] = path
        if query:
            body["query"] = query
        data = self._call(channel, "/wxa/generate_urllink", body=body)
        return IssuedLink(
            url=str(data.get("url_link", "")), expires_at=utcnow() + timedelta(days=expire_days)
        )

    def follower_origin(self: _WechatCalls, channel: ChannelContext, openid: str) -> FollowerOrigin:
        """How ``openid`` came (``user/info``'s ``subscribe_scene`` and ``qr_scene_str``)."""
        data = self._call(
            channel,
            "/cgi-bin/user/info",
            method="GET",
            params={"openid": openid, "lang": "zh_CN"},
        )
        source = str(data.get("subscribe_scene", "") or "")
        return FollowerOrigin(
            following=str(data.get("subscribe", "0")) == "1",
            source=FOLLOWER_SOURCES.get(source, source.lower()),
            scene=str(data.get("qr_scene_str", "") or "")[:64],
            followed_at=values.parse_unix(data.get("subscribe_time"), milliseconds=False),
        )
