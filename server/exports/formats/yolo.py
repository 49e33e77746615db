"""yolo: a zip in the Ultralytics dataset layout.

    data.yaml              train, val, nc, names (label order); no `path`
    classes.txt            the same names, one per line
    train.txt              the image list: ./images/train/<name>, one per task
    labels/train/<stem>.txt  one line per region, normalized to 0..1, 6 decimals
    manifest.json          each image path with its source URL and task ids

`data.yaml` has no `path` key on purpose: Ultralytics' check_det_dataset takes
the dataset root from `path` when given (a relative one against the current
directory if it exists there, else against its own datasets directory), and
only without it from the yaml's own folder, which is what makes the unzipped
folder work from any working directory. Entries of train.txt that start with
"./" are resolved against train.txt's folder. Image names are server.images'
exported names (unique in the export), and a label file has the image's stem.

Boxes are `cls cx cy w h`; for polygon projects every region is a polygon
`cls x1 y1 x2 y2 ...` (a rectangle as its 4 corners), for detection projects
every region is a box (a polygon as its bounding box), so a dataset never
mixes the two, which Ultralytics would not accept. Images are not included:
the manifest says where to fetch each one. A task without regions gets an
empty label file (a background image). yolo needs no pixel size, so every task
is written; a region that cannot be written is left out and its task named in
the export's warnings. Entries stream into the zip one by one
(`ZipStream`: memory stays flat however many there are); the image list and
manifest are spooled to scratch files and added at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

import orjson
import yaml

from server.display_ids import display_id
from server.exports.answers import answer
from server.exports.formats.base import ExportContext, FormatWriter, JsonLines, image_url
from server.exports.formats.results import LabelIndex, Region, pixel_size, read_regions
from server.exports.formats.warnings import SIZE_UNKNOWN_ROTATION, regions_left_out
from server.exports.zipstream import ZipStream
from server.images import ImageNames
from server.vocabulary import TaskType
from storage.export_records import ExportTask

SPLIT = "train"
DECIMALS = 6
# a box line with DECIMALS digits (a literal format: this runs for every box).
_BOX_LINE = "{} {:.6f} {:.6f} {:.6f} {:.6f}"


def _unit(value: float) -> float:
    """A percent as 0..1, clamped: min(max(value / 100, 0), 1), written out."""
    unit = value / 100.0
    return 1.0 if unit > 1.0 else (0.0 if unit < 0.0 else unit)


def _fmt(value: float) -> str:
    return f"{value:.{DECIMALS}f}"


def box_line(class_id: int, region: Region) -> str | None:
    x_min, y_min, x_max, y_max = region.bounds()
    left, top, right, bottom = _unit(x_min), _unit(y_min), _unit(x_max), _unit(y_max)
    width, height = right - left, bottom - top
    if width <= 0 or height <= 0:
        return None
    return _BOX_LINE.format(class_id, left + width / 2, top + height / 2, width, height)


def polygon_line(class_id: int, region: Region) -> str | None:
    if len(region.points) < 3:
        return None
    coords = [_fmt(_unit(c)) for point in region.points for c in point]
    return " ".join([str(class_id), *coords])


class YoloWriter(FormatWriter):
    def __init__(self, out: BinaryIO, context: ExportContext) -> None:
        super().__init__(out, context)
        self.zip = ZipStream(out, scratch_dir=context.scratch_dir, modified=context.created_at)
        self.classes = LabelIndex(context.labels)
        self.names = ImageNames()
        self.polygons = context.task_type == TaskType.POLYGON
        self.image_list_path = context.scratch_dir / "train.txt"
        self.manifest_path = context.scratch_dir / "manifest.json"
        self.image_list = self.image_list_path.open("wb")
        self.manifest = self.manifest_path.open("wb")
        self.manifest.write(b"[")

    def write_batch(self, tasks: Sequence[ExportTask]) -> None:
        image_paths: list[str] = []
        manifest = JsonLines(first=self.exported == 0)
        for task in tasks:
            url = image_url(task)
            stem, suffix = self.names.stem_and_suffix(task.task_id, url)
            image_path = f"images/{SPLIT}/{stem}{suffix}"
            self.zip.write_entry(f"labels/{SPLIT}/{stem}.txt", self._label_text(task).encode())
            image_paths.append(f"./{image_path}\n")
            entry = {
                "image": image_path,
                "url": url,
                "task_id": str(task.task_id),
                "display_id": display_id(task.task_id),
                "external_id": task.external_id,
            }
            manifest.add(orjson.dumps(entry))
        self.image_list.write("".join(image_paths).encode())
        self.manifest.write(manifest.data)
        self.exported += manifest.count

    def _label_text(self, task: ExportTask) -> str:
        latest = answer(task)
        result = latest.result if latest else []
        found, left_out = read_regions(result)
        messages = []
        if any(region.box is None and region.kind == "rectangle" for region in found):
            # a rotated rectangle turns in pixel space: only then is the size needed
            size = pixel_size(task)
            if size is None:
                messages.append(SIZE_UNKNOWN_ROTATION)
            else:
                found, left_out = read_regions(result, aspect=size[0] / size[1])
        lines: list[str] = []
        for region in found:
            class_id = self.classes.index(region.label)
            line = polygon_line(class_id, region) if self.polygons else box_line(class_id, region)
            if line is None:
                left_out += 1
            else:
                lines.append(line)
        if left_out:
            messages.insert(0, regions_left_out(left_out))
        if messages:
            self.warnings.add(task, *messages)
        return "".join([f"{line}\n" for line in lines])

    def finish(self) -> None:
        self.image_list.close()
        self.manifest.write(b"\n]\n" if self.exported else b"]\n")
        self.manifest.close()
        names = self.classes.names
        data = {
            "train": f"{SPLIT}.txt",
            "val": f"{SPLIT}.txt",
            "nc": len(names),
            "names": dict(enumerate(names)),
        }
        self.zip.write_entry(
            "data.yaml", yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()
        )
        self.zip.write_entry("classes.txt", "".join(f"{name}\n" for name in names).encode())
        self.zip.write_file(f"{SPLIT}.txt", self.image_list_path)
        self.zip.write_file("manifest.json", self.manifest_path)
        self.zip.close()
        self.image_list_path.unlink(missing_ok=True)
        self.manifest_path.unlink(missing_ok=True)

    def abort(self) -> None:
        self.image_list.close()
        self.manifest.close()
        self.zip.abort()
