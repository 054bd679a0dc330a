"""Douyin's part upload as the sandbox serves it: ``/video/part/init/``, ``/video/part/upload/``
for each part in order, ``/video/part/complete/``.

Parts are hashed as they arrive and never kept; an MP4's boxes are followed as its bytes
stream in, so a video missing its last part is refused at ``complete`` as Douyin would fail
to transcode it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from guanxi.core.db import utcnow
from guanxi.sandbox.app import sandbox_of
from guanxi.sandbox.douyin import (
    INVALID_PARAMETER,
    MAX_PART_UPLOAD_BYTES,
    PART_MISSING,
    PART_OUT_OF_ORDER,
    PART_SIZE_INVALID,
    PLATFORM,
    READ_CHUNK_BYTES,
    UPLOAD_ID_INVALID,
    DouyinSandboxConfig,
    _authorizer,
    _is_video,
    _ok,
    error_response,
)
from guanxi.sandbox.state import SandboxMedia

if TYPE_CHECKING:
    from _hashlib import HASH

    from guanxi.sandbox.douyin import _DouyinMemory


@dataclass
class BoxWalk:
    """An MP4's top-level boxes followed as its bytes stream in: is the file whole?

    Douyin would fail to transcode a video missing its last part; the sandbox notices that
    the last box ends past the bytes received.
    """

    seen: int = 0
    next_box: int = 0  # where the next box header starts
    header: bytes = b""  # the part of that header received so far
    to_end: bool = False  # a box of size 0 runs to the end of the file

    def feed(self, chunk: bytes) -> None:
        """Follow the boxes through ``chunk``, the bytes after those already fed."""
        chunk_start = self.seen
        self.seen += len(chunk)
        while not self.to_end and self.next_box < self.seen:
            begin = self.next_box + len(self.header) - chunk_start
            self.header += chunk[begin : begin + 16 - len(self.header)]
            size = int.from_bytes(self.header[:4], "big") if len(self.header) >= 8 else -1
            if size == 1:  # a 64-bit size follows the type
                size = int.from_bytes(self.header[8:16], "big") if len(self.header) == 16 else -1
            if size < 0:
                return  # the header continues in the next chunk
            if size < 8:
                self.to_end = True  # size 0: to the end (sizes 2 to 7 are not MP4: stop looking)
                return
            self.next_box += size
            self.header = b""

    def whole(self) -> bool:
        """Whether the last box ends where the bytes end."""
        return self.to_end or (self.next_box == self.seen and not self.header)


@dataclass
class PartUpload:
    """A part upload in progress: its parts are hashed as they arrive, never kept."""

    open_id: str
    expires_at: datetime
    digest: HASH = field(default_factory=hashlib.sha256)
    walk: BoxWalk | None = None  # MP4 only: set by the first part
    size: int = 0
    parts: int = 0
    last_part_size: int = 0
    receiving: bool = False
    filename: str = "video.mp4"
    content_type: str = "video/mp4"


def register(router: APIRouter, config: DouyinSandboxConfig, memory: _DouyinMemory) -> None:
    authorize = _authorizer(config)

    def live_upload(upload_id: str, open_id: str) -> PartUpload | None:
        upload = memory.part_uploads.get(upload_id)
        if upload is None or upload.open_id != open_id or upload.expires_at <= utcnow():
            return None
        return upload

    @router.post("/video/part/init/")
    def part_init(request: Request, open_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        now = utcnow()
        # Like Douyin's, the id has characters a client must URL-encode.
        upload_id = "@" + base64.b64encode(secrets.token_bytes(24)).decode()
        with memory.lock:
            for stale in [k for k, u in memory.part_uploads.items() if u.expires_at <= now]:
                del memory.part_uploads[stale]
            memory.part_uploads[upload_id] = PartUpload(
                open_id=open_id,
                expires_at=now + timedelta(seconds=config.part_upload_lifetime_s),
            )
        return _ok({"upload_id": upload_id})

    @router.post("/video/part/upload/")
    async def part_upload(
        request: Request, open_id: str = "", upload_id: str = "", part_number: str = ""
    ) -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        if not part_number.isdecimal() or int(part_number) < 1:
            return error_response(INVALID_PARAMETER, detail="part_number 需为从 1 开始的整数")
        number = int(part_number)
        with memory.lock:
            upload = live_upload(upload_id, open_id)
            if upload is None:
                return error_response(UPLOAD_ID_INVALID)
            if upload.receiving or number != upload.parts + 1:
                return error_response(
                    PART_OUT_OF_ORDER,
                    detail=f"应上传第 {upload.parts + 1} 个分片，收到第 {number} 个",
                )
            if upload.parts and upload.last_part_size < config.min_part_bytes:
                return error_response(
                    PART_SIZE_INVALID,
                    detail=f"第 {upload.parts} 个分片不是最后一片，却小于 "
                    f"{config.min_part_bytes} 字节",
                )
            upload.receiving = True
        try:
            return await _receive_part(request, upload, number, config)
        finally:
            upload.receiving = False

    @router.post("/video/part/complete/")
    def part_complete(request: Request, open_id: str = "", upload_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        with memory.lock:
            upload = live_upload(upload_id, open_id)
            if upload is None:
                return error_response(UPLOAD_ID_INVALID)
            if upload.receiving or not upload.parts:
                return error_response(PART_MISSING, detail="尚未收到全部分片")
            if upload.walk is not None and not upload.walk.whole():
                return error_response(PART_MISSING, detail="视频文件不完整，缺少分片")
            del memory.part_uploads[upload_id]
        state = sandbox_of(request).state
        video_id = "v0" + secrets.token_hex(14)
        with state.lock:
            state.media[video_id] = SandboxMedia(
                platform=PLATFORM,
                account_id=open_id,
                media_id=video_id,
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
            )
        with memory.lock:
            memory.video_digests[video_id] = upload.digest.hexdigest()
        return _ok({"video": {"video_id": video_id, "width": 1080, "height": 1920}})


async def _receive_part(
    request: Request, upload: PartUpload, number: int, config: DouyinSandboxConfig
) -> JSONResponse:
    """Hash part ``number`` into ``upload`` as it is read; the upload is unchanged on an error."""
    digest = upload.digest.copy()
    walk = copy.copy(upload.walk)
    filename, content_type = upload.filename, upload.content_type
    size = 0
    async with request.form() as form:  # the form spools big files to disk
        video = form.get("video")
        if video is None or isinstance(video, str):
            return error_response(INVALID_PARAMETER, detail="缺少 video 文件")
        while chunk := await video.read(READ_CHUNK_BYTES):
            if number == 1 and size == 0:
                if not _is_video(chunk):
                    return error_response(
                        INVALID_PARAMETER, detail="视频格式不支持，请上传 mp4 或 webm"
                    )
                walk = BoxWalk() if chunk[4:8] == b"ftyp" else None
                filename = video.filename or filename
                content_type = video.content_type or content_type
            digest.update(chunk)
            if walk is not None:
                walk.feed(chunk)
            size += len(chunk)
            if size > config.max_part_bytes:
                return error_response(
                    PART_SIZE_INVALID, detail=f"分片超过 {config.max_part_bytes} 字节"
                )
    if size == 0:
        return error_response(PART_SIZE_INVALID, detail="分片为空")
    if upload.size + size > MAX_PART_UPLOAD_BYTES:
        return error_response(INVALID_PARAMETER, detail="视频文件超过 4GB")
    upload.digest, upload.walk = digest, walk
    upload.filename, upload.content_type = filename, content_type
    upload.size += size
    upload.parts = number
    upload.last_part_size = size
    return _ok({})
