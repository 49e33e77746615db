"""What the heavy-reader checks share: a project whose images share a file name,
exported through the real services, and stand-in images where the export says."""

from __future__ import annotations

from pathlib import Path

import grpc

from tests.exports.samples import choice, rectangle
from tests.exports.support import Item, build_project, create_export, download
from tests.helpers import TestUser

DETECTION = [
    Item("https://cdn.example.com/cam_a/0001.jpg", [rectangle("正面", 10, 10, 20, 20)]),
    Item("https://cdn.example.com/cam_b/0001.jpg", [rectangle("负面", 50, 50, 30, 30)]),
    Item("https://cdn.example.com/cam_b/0001.jpg", [rectangle("负面", 5, 5, 10, 10)]),
]
CLASSIFICATION = [
    Item("https://cdn.example.com/cam_a/0001.jpg", [choice("正面", "image")]),
    Item("https://cdn.example.com/cam_b/0001.jpg", [choice("负面", "image")]),
]


async def export_file(
    channel: grpc.aio.Channel,
    admin: TestUser,
    annotator: TestUser,
    tmp_path: Path,
    task_type: str,
    fmt: str,
) -> Path:
    items = DETECTION if task_type == "object_detection" else CLASSIFICATION
    project_id, _ = await build_project(channel, admin, annotator, task_type, items)
    created = await create_export(channel, admin, project_id, fmt)
    path = tmp_path / created.file_name
    await download(channel, admin, created.export_id, path)
    return path


def write_image(path: Path, size: tuple[int, int] = (640, 480)) -> None:
    """A plain image standing in for the downloaded one (the tools open it)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 120, 150)).save(path)
