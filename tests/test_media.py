"""The media library: files recognised by content, deduplicated per workspace, limited in size,
and served only to members of their workspace."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Workspace
from guanxi.connectors.base import MediaKind
from guanxi.core.settings import Settings
from guanxi.publishing import media
from guanxi.publishing.media import MediaRejectedError, sniff_format, store_media
from guanxi.publishing.models import MediaAsset
from tests.composer_support import jpeg_bytes, mp4_bytes, png_bytes
from tests.conftest import csrf_token, sign_in


def store(
    db: Session, workspace: Workspace, settings: Settings, name: str, data: bytes
) -> MediaAsset:
    asset, _ = store_media(
        db,
        workspace=workspace,
        filename=name,
        stream=io.BytesIO(data),
        data_dir=settings.data_dir,
        actor=None,
    )
    db.commit()
    return asset


def count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(MediaAsset)) or 0


def test_a_png_is_stored_under_its_digest_with_its_dimensions(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    workspace = signed_in[1].workspace
    asset = store(db, workspace, settings, "海报.png", png_bytes(8, 6))
    assert (asset.kind, asset.content_type, asset.width, asset.height) == (
        "image",
        "image/png",
        8,
        6,
    )
    path = settings.data_dir / asset.storage_path
    assert path.name == f"{asset.sha256}.png"
    assert path.parent == settings.data_dir / "media" / str(workspace.id)
    assert path.read_bytes() == png_bytes(8, 6)


def test_the_content_decides_the_format_and_the_name_must_agree(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    """A JPEG is stored as a JPEG whatever the upload's name; a JPEG named .png, a video named
    .html and a text file named .jpg are refused, saying what to do."""
    workspace = signed_in[1].workspace
    asset = store(db, workspace, settings, "photo.JPEG", jpeg_bytes())
    assert asset.content_type == "image/jpeg"
    assert asset.storage_path.endswith(".jpg")
    with pytest.raises(MediaRejectedError, match=r"JPEG file but its name ends in \.png.*\.jpg"):
        store(db, workspace, settings, "photo.png", jpeg_bytes(12, 4))
    with pytest.raises(MediaRejectedError, match=r"MP4 file but its name ends in \.html"):
        store(db, workspace, settings, "page.html", mp4_bytes())
    assert store(db, workspace, settings, "clip.mov", mp4_bytes()).content_type == "video/mp4"
    with pytest.raises(MediaRejectedError, match="not an image or video"):
        store(db, workspace, settings, "evil.jpg", b"<html><script>alert(1)</script></html>")


def test_a_video_that_is_also_a_web_page_is_refused(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    """Given a MOV whose first kilobyte also holds an HTML page (a polyglot a browser could
    render as this site's page), when it is uploaded, then it is refused and nothing kept."""
    workspace = signed_in[1].workspace
    page = b"<HTML><body><script>fetch('/w/acme/settings')</script></body></HTML>"
    free = (8 + len(page)).to_bytes(4, "big") + b"free" + page
    ftyp = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "
    polyglot = ftyp + free + mp4_bytes()[32:]
    assert sniff_format(polyglot[: media.SNIFF_BYTES]) is media.MOV  # a video by its magic
    with pytest.raises(MediaRejectedError, match="web page code"):
        store(db, workspace, settings, "clip.mov", polyglot)
    db.rollback()
    assert count(db) == 0
    assert list((settings.data_dir / "media" / str(workspace.id)).iterdir()) == []


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def test_a_truncated_large_png_is_refused_as_damaged(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    """Given a 36-megapixel PNG whose pixel data stops half-way, in chunks that are otherwise
    well formed (right lengths and CRCs, an end chunk: what a check of the structure accepts),
    when it is uploaded, then decoding every pixel finds the gap and it is refused."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((6000, 6000)).save(buffer, format="PNG", compress_level=1)
    whole, position, pixel_data = buffer.getvalue(), 8, b""
    while position < len(whole):
        (length,) = struct.unpack(">I", whole[position : position + 4])
        kind = whole[position + 4 : position + 8]
        if kind == b"IHDR":
            header = png_chunk(kind, whole[position + 8 : position + 8 + length])
        if kind == b"IDAT":
            pixel_data += whole[position + 8 : position + 8 + length]
        position += 12 + length
    cut = pixel_data[: len(pixel_data) // 2]
    truncated = whole[:8] + header + png_chunk(b"IDAT", cut) + png_chunk(b"IEND", b"")
    with Image.open(io.BytesIO(truncated)) as image:
        image.verify()  # the structure is sound: only the pixels are missing
    with pytest.raises(MediaRejectedError, match="cannot be read"):
        store(db, signed_in[1].workspace, settings, "poster.png", truncated)
    db.rollback()
    assert count(db) == 0


def png_header_only(width: int, height: int) -> bytes:
    """A PNG announcing ``width`` x ``height`` with (almost) no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(8000, 6000), (30000, 30000)])
def test_an_image_over_the_pixel_limit_is_refused_with_the_limit(
    db: Session,
    signed_in: tuple[TestClient, Membership],
    settings: Settings,
    size: tuple[int, int],
) -> None:
    """48 megapixels (over guanxi's 40) and 900 (a decompression bomb for Pillow) both say
    what the limit is, without decoding anything."""
    with pytest.raises(MediaRejectedError, match="more than 40 megapixels"):
        store(db, signed_in[1].workspace, settings, "huge.png", png_header_only(*size))


def test_a_damaged_image_is_refused_and_nothing_is_kept(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    workspace = signed_in[1].workspace
    truncated = png_bytes()[:40]
    with pytest.raises(MediaRejectedError, match="cannot be read"):
        store(db, workspace, settings, "broken.png", truncated)
    db.rollback()
    assert count(db) == 0
    assert list((settings.data_dir / "media" / str(workspace.id)).iterdir()) == []


def test_an_empty_file_is_refused(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    with pytest.raises(MediaRejectedError, match="empty"):
        store(db, signed_in[1].workspace, settings, "empty.png", b"")


def test_a_file_over_its_limit_is_refused(
    db: Session,
    signed_in: tuple[TestClient, Membership],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(media.MAX_BYTES, MediaKind.IMAGE, 100)
    with pytest.raises(MediaRejectedError, match="larger than"):
        store(
            db, signed_in[1].workspace, settings, "big.png", png_bytes(64, 64, "white") + bytes(200)
        )
    db.rollback()
    assert count(db) == 0


def test_the_same_file_twice_is_stored_once(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    workspace = signed_in[1].workspace
    first = store(db, workspace, settings, "a.png", png_bytes())
    again, new = store_media(
        db,
        workspace=workspace,
        filename="b.png",
        stream=io.BytesIO(png_bytes()),
        data_dir=settings.data_dir,
        actor=None,
    )
    assert not new
    assert again.id == first.id
    assert count(db) == 1


def test_a_video_keeps_its_container_and_duration(
    db: Session, signed_in: tuple[TestClient, Membership], settings: Settings
) -> None:
    asset = store(db, signed_in[1].workspace, settings, "clip.mp4", mp4_bytes(5000, 1000))
    assert (asset.kind, asset.content_type, asset.duration_s) == ("video", "video/mp4", 5.0)


@pytest.mark.parametrize(
    ("head", "label"),
    [
        (b"\xff\xd8\xff\xe0" + bytes(28), "JPEG"),
        (b"GIF89a" + bytes(26), "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(16), "WebP"),
        (b"\x00\x00\x00\x14ftypqt  " + bytes(20), "MOV"),
        (b"\x00\x00\x00\x14ftypisom" + bytes(20), "MP4"),
        (b"%PDF-1.7" + bytes(24), None),
    ],
)
def test_formats_are_sniffed_from_magic_bytes(head: bytes, label: str | None) -> None:
    found = sniff_format(head)
    assert (found.label if found else None) == label


def test_pages_upload_list_and_serve_files_in_chinese(
    signed_in: tuple[TestClient, Membership],
) -> None:
    """An owner uploads a good and a bad file through the page (in Chinese): the good one is
    kept and shown, the bad one explained; the file is served to members."""
    client, membership = signed_in
    slug = membership.workspace.slug
    client.post(
        "/language", data={"language": "zh_Hans", "csrf_token": csrf_token(client), "next": "/"}
    )
    response = client.post(
        f"/w/{slug}/media",
        data={"csrf_token": csrf_token(client)},
        files=[
            ("files", ("海报.png", png_bytes(), "image/png")),
            ("files", ("notes.jpg", b"just text", "image/jpeg")),
        ],
    )
    assert response.status_code == 200
    assert "海报.png" in response.text
    assert "notes.jpg" in response.text
    assert 'lang="zh-Hans"' in response.text
    page = client.get(f"/w/{slug}/media")
    assert "海报.png" in page.text
    asset_id = page.text.split(f"/w/{slug}/media/")[1].split("/")[0]
    served = client.get(f"/w/{slug}/media/{asset_id}/file")
    assert served.status_code == 200
    assert served.content == png_bytes()
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith("attachment;")


def test_files_are_not_served_to_other_workspaces(
    client: TestClient, db: Session, make_user: object, make_workspace: object, settings: Settings
) -> None:
    owner = make_user("a@one.example")  # type: ignore[operator]
    stranger = make_user("b@two.example")  # type: ignore[operator]
    one = make_workspace("one", owner=owner)  # type: ignore[operator]
    make_workspace("two", owner=stranger)  # type: ignore[operator]
    asset = store(db, one, settings, "secret.png", png_bytes())
    sign_in(client, "b@two.example")
    assert client.get(f"/w/one/media/{asset.id}/file").status_code == 404
    assert client.get(f"/w/two/media/{asset.id}/file").status_code == 404


def test_an_upload_without_a_file_is_explained(signed_in: tuple[TestClient, Membership]) -> None:
    client, membership = signed_in
    response = client.post(
        f"/w/{membership.workspace.slug}/media", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 400
    assert "Choose at least one image or video" in response.text
