"""The media library: images and videos a workspace attaches to its posts.

Files are recognised by their content (magic bytes) and stored once per workspace under
``data_dir/media/<workspace id>/<sha256>.<ext>``: uploading the same file again returns the
asset already in the library. A file whose name says another format than its content, or
whose first kilobyte holds HTML (a file that is both a video and a web page), is refused, so
nothing in the library can be opened as a page of this site.

Limits (documented in docs/publishing.md): images up to 20 MB and 40 megapixels, every frame
decoded in full (a truncated image is refused) and at most 200 megapixels decoded over all
frames of an animation; videos up to 500 MB. The platforms have lower limits of their own;
their connectors say so when a variant is checked.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.connectors.base import MediaFile, MediaKind
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.publishing.models import MediaAsset

MB = 1024 * 1024
MAX_BYTES: dict[MediaKind, int] = {MediaKind.IMAGE: 20 * MB, MediaKind.VIDEO: 500 * MB}
MAX_UPLOAD_REQUEST_BYTES = 1024 * MB  # one upload: two of the largest videos, or many images
MAX_IMAGE_PIXELS = 40_000_000  # beyond this an "image" is more likely a decompression bomb
MAX_DECODED_PIXELS = 200_000_000  # all frames of an animation together: bounds decoding time
FILENAME_MAX_LENGTH = 255
CHUNK = 1024 * 1024
SNIFF_BYTES = 32
MARKUP_BYTES = 1024  # what browsers look at when they guess a type; HTML there is refused
MARKUP = (b"<html", b"<script", b"<!doctype html", b"<body", b"<head", b"<iframe", b"<svg")


@dataclass(frozen=True)
class MediaFormat:
    """A file format the library accepts."""

    kind: MediaKind
    content_type: str
    extension: str
    label: str


JPEG = MediaFormat(MediaKind.IMAGE, "image/jpeg", "jpg", "JPEG")
PNG = MediaFormat(MediaKind.IMAGE, "image/png", "png", "PNG")
GIF = MediaFormat(MediaKind.IMAGE, "image/gif", "gif", "GIF")
WEBP = MediaFormat(MediaKind.IMAGE, "image/webp", "webp", "WebP")
MP4 = MediaFormat(MediaKind.VIDEO, "video/mp4", "mp4", "MP4")
MOV = MediaFormat(MediaKind.VIDEO, "video/quicktime", "mov", "MOV")
ACCEPTED_LABELS = "JPEG, PNG, GIF, WebP, MP4, MOV"
# The Pillow decoder each image format must be read by: a PNG header on a JPEG body is refused.
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}
# Top-level QuickTime atoms an old .mov may start with (no "ftyp" box).
QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip")
# File name extensions and the formats they may hold (MP4 and MOV are one family of
# containers that cameras and editors label either way).
EXTENSIONS: dict[str, tuple[MediaFormat, ...]] = {
    "jpg": (JPEG,),
    "jpeg": (JPEG,),
    "jpe": (JPEG,),
    "jfif": (JPEG,),
    "png": (PNG,),
    "apng": (PNG,),
    "gif": (GIF,),
    "webp": (WEBP,),
    "mp4": (MP4, MOV),
    "m4v": (MP4, MOV),
    "mov": (MOV, MP4),
    "qt": (MOV, MP4),
}


class MediaRejectedError(UserError):
    """The uploaded file is not one the library takes; the message says why and what to do."""


def sniff_format(head: bytes) -> MediaFormat | None:
    """The format of a file from its first bytes, or None when it is not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return MOV if head[8:12] == b"qt  " else MP4
    if head[4:8] in QUICKTIME_ATOMS:
        return MOV
    return None


def media_root(data_dir: Path, workspace: Workspace) -> Path:
    """Where a workspace's media files live."""
    return data_dir / "media" / str(workspace.id)


def store_media(
    db: Session,
    *,
    workspace: Workspace,
    filename: str,
    stream: BinaryIO,
    data_dir: Path,
    actor: User | None,
) -> tuple[MediaAsset, bool]:
    """Add an uploaded file to the library; returns the asset and whether it is new.

    Refuses (MediaRejectedError, nothing stored) an empty file, a format not accepted, a
    name whose extension says another format, HTML in the first kilobyte, a file over its
    kind's size limit, or an image that does not decode in full within the pixel limits.
    """
    name = Path(filename.replace("\\", "/")).name.strip()[:FILENAME_MAX_LENGTH] or "upload"
    head = stream.read(SNIFF_BYTES)
    if not head:
        raise MediaRejectedError(N_("{name} is empty. Choose the file again."), name=name)
    media_format = sniff_format(head)
    if media_format is None:
        raise MediaRejectedError(
            N_("{name} is not an image or video guanxi can use. Upload one of: {formats}."),
            name=name,
            formats=ACCEPTED_LABELS,
        )
    _check_extension(name, media_format)
    root = media_root(data_dir, workspace)
    root.mkdir(parents=True, exist_ok=True)
    limit = MAX_BYTES[media_format.kind]
    start = bytearray(head)
    digest = hashlib.sha256(head)
    size = len(head)
    handle, temp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    temp_path = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(head)
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise MediaRejectedError(
                        N_("{name} is larger than {limit} MB, the limit for this kind of file."),
                        name=name,
                        limit=limit // MB,
                    )
                if len(start) < MARKUP_BYTES:
                    start.extend(chunk[: MARKUP_BYTES - len(start)])
                digest.update(chunk)
                out.write(chunk)
        _check_no_markup(bytes(start), name)
        sha256 = digest.hexdigest()
        existing = db.scalar(
            select(MediaAsset).where(
                MediaAsset.workspace_id == workspace.id, MediaAsset.sha256 == sha256
            )
        )
        if existing is not None:
            return existing, False
        width, height, duration = _inspect(temp_path, media_format, name)
        relative = Path("media") / str(workspace.id) / f"{sha256}.{media_format.extension}"
        temp_path.replace(data_dir / relative)
    finally:
        temp_path.unlink(missing_ok=True)
    asset = MediaAsset(
        workspace_id=workspace.id,
        kind=media_format.kind.value,
        filename=name,
        content_type=media_format.content_type,
        size=size,
        sha256=sha256,
        width=width,
        height=height,
        duration_s=duration,
        storage_path=relative.as_posix(),
        uploaded_by_id=actor.id if actor else None,
    )
    db.add(asset)
    db.flush()
    record_audit(
        db,
        actor=actor,
        workspace=workspace,
        action="media.upload",
        entity_type="media",
        entity_id=asset.id,
        after={"filename": name, "sha256": sha256, "size": size},
    )
    return asset, True


def _check_extension(name: str, media_format: MediaFormat) -> None:
    extension = Path(name).suffix.lower().lstrip(".")
    if extension and media_format not in EXTENSIONS.get(extension, ()):
        raise MediaRejectedError(
            N_(
                "{name} holds a {format} file but its name ends in .{extension}. Give it the "
                "extension of what it is (.{expected}) and upload it again."
            ),
            name=name,
            format=media_format.label,
            extension=extension,
            expected=media_format.extension,
        )


def _check_no_markup(start: bytes, name: str) -> None:
    lowered = start[:MARKUP_BYTES].lower()
    if any(marker in lowered for marker in MARKUP):
        raise MediaRejectedError(
            N_(
                "{name} contains web page code (HTML) besides the image or video. Export the "
                "file again from the camera or the editing program and upload that file."
            ),
            name=name,
        )


def _inspect(
    path: Path, media_format: MediaFormat, name: str
) -> tuple[int | None, int | None, float | None]:
    if media_format.kind is MediaKind.VIDEO:
        return None, None, _video_duration(path)
    damaged = MediaRejectedError(
        N_("{name} looks like a {format} image but cannot be read. Export it again and retry."),
        name=name,
        format=media_format.label,
    )
    too_big = MediaRejectedError(
        N_("{name} has more than {limit} megapixels (the limit). Resize it and upload it again."),
        name=name,
        limit=MAX_IMAGE_PIXELS // 1_000_000,
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns before it refuses a huge image; the size checks below decide.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=[PILLOW_FORMATS[media_format]]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise too_big
                frames = getattr(image, "n_frames", 1)
                if width * height * frames > MAX_DECODED_PIXELS:
                    raise MediaRejectedError(
                        N_(
                            "{name} has {frames} frames, too many to check at this size. "
                            "Shorten or shrink the animation and upload it again."
                        ),
                        name=name,
                        frames=frames,
                    )
                # Decode every pixel of every frame: a truncated file fails here, not later.
                for frame in range(frames):
                    image.seek(frame)
                    image.load()
    except Image.DecompressionBombError as exc:
        raise too_big from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise damaged from exc
    return width, height, None


def _video_duration(path: Path) -> float | None:
    """The duration from the movie header (moov/mvhd), when the file has one we can read."""
    with path.open("rb") as handle:
        moov = _find_box(handle, b"moov", path.stat().st_size)
        if moov is None:
            return None
        start, end = moov
        mvhd = _find_box(handle, b"mvhd", end, start=start)
        if mvhd is None:
            return None
        handle.seek(mvhd[0])
        header = handle.read(32)
    if len(header) < 20:
        return None
    if header[0] == 1:  # version 1: 64-bit times
        if len(header) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", header[20:32])
    else:
        timescale, duration = struct.unpack(">II", header[12:20])
    return round(duration / timescale, 3) if timescale else None


def _find_box(handle: BinaryIO, kind: bytes, end: int, start: int = 0) -> tuple[int, int] | None:
    """The (content start, end) of the first box of ``kind`` between ``start`` and ``end``."""
    position = start
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(16)
        if len(header) < 8:
            return None
        size, box = struct.unpack(">I4s", header[:8])
        offset = 8
        if size == 1 and len(header) == 16:
            size = struct.unpack(">Q", header[8:16])[0]
            offset = 16
        elif size == 0:
            size = end - position
        if size < offset:
            return None
        if box == kind:
            return position + offset, min(position + size, end)
        position += size
    return None


def list_media(db: Session, *, workspace: Workspace) -> list[MediaAsset]:
    """The workspace's media, newest first."""
    query = (
        select(MediaAsset)
        .where(MediaAsset.workspace_id == workspace.id)
        .order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc())
    )
    return list(db.scalars(query))


def media_not_found() -> NotFoundError:
    """The error for a file that is not in the library (or not visible to the asker)."""
    return NotFoundError(N_("No such file in this workspace's media library."))


def media_by_id(db: Session, *, workspace_id: int, media_id: int) -> MediaAsset | None:
    """The asset with this id if it belongs to workspace ``workspace_id``."""
    asset = db.get(MediaAsset, media_id)
    return asset if asset is not None and asset.workspace_id == workspace_id else None


def get_media(db: Session, *, workspace: Workspace, media_id: int) -> MediaAsset:
    """The workspace's media asset with this id; NotFound for anyone else's."""
    asset = media_by_id(db, workspace_id=workspace.id, media_id=media_id)
    if asset is None:
        raise media_not_found()
    return asset


def media_path(asset: MediaAsset, data_dir: Path) -> Path:
    """Where the asset's file is on disk."""
    return data_dir / asset.storage_path


def media_file(asset: MediaAsset, data_dir: Path) -> MediaFile:
    """The asset as a connector sees it."""
    return MediaFile(
        path=media_path(asset, data_dir),
        kind=MediaKind(asset.kind),
        content_type=asset.content_type,
        size=asset.size,
        sha256=asset.sha256,
        width=asset.width,
        height=asset.height,
        duration_s=asset.duration_s,
    )
