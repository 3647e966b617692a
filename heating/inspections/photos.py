"""Uploaded pictures (inspection photos, scanned documents): checked by their content, stored
under random names in the storage folder, with a thumbnail and the EXIF capture time.

The name and the declared content type of an upload are ignored: a file is accepted only when
Pillow reads it as a JPEG or PNG, its pixels decode completely, and it is no larger than
UPLOAD_MAX_BYTES.  Files never go under static/; they are served by views that check scope.
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from heating.core.db import now_utc
from heating.core.i18n import LOCAL_TZ
from heating.core.refusals import Refusal

#: Pillow format → (content type, file extension)
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}
#: a 48-megapixel phone photo fits; anything larger is refused before decoding (no bombs)
MAX_PIXELS = 80_000_000
THUMB_SIZE = 320


class UploadRefused(Refusal):
    """The file is not an acceptable picture; ``message`` says what to do."""


@dataclass(frozen=True)
class StoredPicture:
    #: paths relative to the storage folder
    path: str
    thumb_path: str
    sha256: str
    content_type: str
    size: int
    width: int
    height: int
    taken_at: datetime | None


def read_limited(stream: IO[bytes], limit: int) -> bytes:
    """The whole upload, refusing it as soon as it passes ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(_l("The file is larger than %(mb)s MB. Take the photo at a lower "
                               "resolution or scan at a lower quality, then try again.",
                               mb=limit // (1024 * 1024)))
    if not data:
        raise UploadRefused(_l("The file is empty. Choose the file again."))
    return data


def _exif_time(image: Image.Image) -> datetime | None:
    """DateTimeOriginal (else DateTime) as UTC; the camera's offset when it wrote one,
    else Beijing time (phones here are set to it)."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        raw = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        offset = sub.get(ExifTags.Base.OffsetTimeOriginal)
        if not raw:
            return None
        text = str(raw).strip("\x00 ")
        if offset:
            taken = datetime.strptime(f"{text} {str(offset).strip()}", "%Y:%m:%d %H:%M:%S %z")
        else:
            taken = datetime.strptime(text, "%Y:%m:%d %H:%M:%S").replace(tzinfo=LOCAL_TZ)
        return taken.astimezone(timezone.utc)
    except (ValueError, TypeError, KeyError, OSError, SyntaxError):
        return None  # unreadable metadata is no reason to refuse the picture


def _not_a_picture() -> UploadRefused:
    return UploadRefused(_l("This file is not a JPEG or PNG picture (whatever its name says). "
                            "Take the photo again or save the scan as JPEG or PNG."))


def check_picture(data: bytes) -> tuple[str, int, int, datetime | None]:
    """(Pillow format, width, height, capture time) of a JPEG or PNG, else UploadRefused."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            if fmt not in FORMATS:
                raise _not_a_picture()
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UploadRefused(_l("The picture has too many pixels. Take it at a lower "
                                       "resolution and try again."))
            image.verify()  # must come straight after open
        with Image.open(io.BytesIO(data)) as image:
            taken_at = _exif_time(image)
    except UploadRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error,
            Image.DecompressionBombError):
        raise _not_a_picture() from None
    return fmt, width, height, taken_at


def make_thumbnail(data: bytes) -> bytes:
    """A JPEG at most THUMB_SIZE pixels on its longer side, turned upright (EXIF orientation).
    Decoding every pixel here also refuses a truncated or corrupt file."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (THUMB_SIZE * 2, THUMB_SIZE * 2))  # JPEG: decode at 1/n scale
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((THUMB_SIZE, THUMB_SIZE))
            if upright.mode in ("RGBA", "LA", "P"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            out = io.BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (OSError, SyntaxError, ValueError, struct.error, Image.DecompressionBombError):
        raise _not_a_picture() from None


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file, never overwriting one (a name collision raises)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def store_picture(data: bytes, storage_dir: str, folder: str = "uploads") -> StoredPicture:
    """Check ``data`` and write it, with its thumbnail, under a random name."""
    fmt, width, height, taken_at = check_picture(data)
    thumb = make_thumbnail(data)
    content_type, ext = FORMATS[fmt]
    now = now_utc().astimezone(LOCAL_TZ)
    name = secrets.token_hex(16)
    relative = f"{folder}/{now:%Y/%m}/{name}{ext}"
    thumb_relative = f"{folder}/{now:%Y/%m}/{name}-thumb.jpg"
    _write_new(Path(storage_dir) / relative, data)
    _write_new(Path(storage_dir) / thumb_relative, thumb)
    return StoredPicture(relative, thumb_relative, hashlib.sha256(data).hexdigest(),
                         content_type, len(data), width, height, taken_at)


def resolve(storage_dir: str, relative: str) -> Path:
    """The absolute path of a stored file, refusing anything that would leave the folder."""
    root = Path(storage_dir).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise FileNotFoundError(relative)
    return path
