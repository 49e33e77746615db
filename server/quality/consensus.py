"""One merged answer per task from its annotators' answers (pure; docs/quality.md "## Consensus").

`merge_answers` takes the answers in order (earliest first) with each one's
weight and returns a Label Studio result:

* choices: the plurality choice (each answer one vote); ties go to the label
  that comes first in the project's labels, then to the label chosen in the
  earliest answer. Answers that chose nothing vote for "nothing", which wins
  only with strictly more votes than every label.
* rectangles: clustered per label at the IoU threshold. Answers are taken in
  order; each answer's boxes are matched one-to-one against the clusters so
  far (their weighted mean boxes), greedily by IoU (highest first, ties by
  the box's then the cluster's order); a box left unmatched starts a cluster.
  A cluster is kept when more than half of the answers have a member in it,
  and written as the weighted mean of its members (x, y, width, height and
  rotation), each member weighing its annotator's agreement score (1 when
  unknown; equal weights when every member weighs 0).
* polygons: clustered the same way against each cluster's first polygon; a
  kept cluster is written as its member with the best mean IoU to the other
  members (ties: the earliest answer), since the mean of two polygons is not
  well defined.
* NER spans: a span (start, end, label) is kept when more than half of the
  answers have it.

Regions that cannot be compared (no label, no finite coordinates, no area)
and other region types are left out. Output order: choices first, then
regions in the order their clusters were started, then spans by (start,
end, label order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from server.quality.geometry import (
    Box,
    box_of,
    finite_number,
    polygon_shape,
    rotated_box_iou,
    shape_iou,
)

RECTANGLE, POLYGON, CHOICES, SPANS = "rectanglelabels", "polygonlabels", "choices", "labels"


@dataclass(frozen=True, slots=True)
class WeightedAnswer:
    """One annotator's result and the weight of its regions in a mean."""

    result: Sequence[Any]
    weight: float = 1.0


@dataclass(slots=True)
class _Member:
    answer: int
    label: str
    item: dict[str, Any]
    weight: float
    box: Box | None = None
    rotation: float = 0.0
    shape: BaseGeometry | None = None


@dataclass(slots=True)
class _Cluster:
    label: str
    members: list[_Member] = field(default_factory=list)
    box: Box | None = None  # rectangles: the weighted mean so far
    rotation: float = 0.0
    # running sums of x, y, width, height, rotation: weighted, and plain
    # (the mean when every member weighs 0), and the total weight.
    weighted: list[float] = field(default_factory=lambda: [0.0] * 5)
    plain: list[float] = field(default_factory=lambda: [0.0] * 5)
    total: float = 0.0


def merge_answers(
    answers: Sequence[WeightedAnswer], *, labels: Sequence[str], iou_threshold: float
) -> list[dict[str, Any]]:
    """The merged result of `answers` (earliest first), as described above."""
    order = {name: i for i, name in enumerate(labels)}
    groups = [_group(answer.result) for answer in answers]
    weights = [answer.weight for answer in answers]
    merged: list[dict[str, Any]] = []
    if any(CHOICES in g for g in groups):
        merged += _vote_choices(groups, order)
    merged += _merge_regions(groups, weights, iou_threshold)
    if any(SPANS in g for g in groups):
        merged += _merge_spans(groups, order)
    return merged


# An answer's regions by type: (first label, region), in the order drawn.
_Groups = dict[str, list[tuple[str, dict[str, Any]]]]


def _group(result: Sequence[Any]) -> _Groups:
    """The result's regions with a label, by type (one pass over the result)."""
    found: _Groups = {}
    for item in result:
        if not isinstance(item, dict):
            continue
        kind, value = item.get("type"), item.get("value")
        if not isinstance(kind, str) or not isinstance(value, dict):
            continue
        names = value.get(kind)
        if isinstance(names, list) and names and isinstance(names[0], str):
            found.setdefault(kind, []).append((names[0], item))
    return found


def _label_key(order: dict[str, int], label: str, first_seen: int) -> tuple[int, int]:
    """Labels in the project's order; others after them, earliest answer first."""
    return (order.get(label, len(order)), first_seen)


def _vote_choices(groups: Sequence[_Groups], order: dict[str, int]) -> list[dict[str, Any]]:
    votes: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    template: dict[str, Any] | None = None
    nothing = 0
    for index, group in enumerate(groups):
        chosen: dict[str, None] = {}
        for _, item in group.get(CHOICES, ()):
            template = template or item
            for name in item["value"][CHOICES]:
                if isinstance(name, str):
                    chosen.setdefault(name, None)
        if not chosen:
            nothing += 1
        for name in chosen:
            votes[name] = votes.get(name, 0) + 1
            first_seen.setdefault(name, index)
    if not votes or template is None:
        return []
    winner = min(votes, key=lambda n: (-votes[n], *_label_key(order, n, first_seen[n])))
    if nothing > votes[winner]:
        return []
    region = {k: v for k, v in template.items() if k in ("from_name", "to_name", "type")}
    region["id"] = "consensus-choice"
    region["value"] = {CHOICES: [winner]}
    return [region]


def _merge_regions(
    groups: Sequence[_Groups], weights: Sequence[float], threshold: float
) -> list[dict[str, Any]]:
    clusters: list[tuple[str, _Cluster]] = []
    for index, group in enumerate(groups):
        members = _members(index, group, weights[index])
        candidates = []
        for m, member in enumerate(members):
            kind = member.item["type"]
            for c, (cluster_kind, cluster) in enumerate(clusters):
                if cluster_kind != kind or cluster.label != member.label:
                    continue
                iou = _iou_to_cluster(member, cluster)
                if iou >= threshold:
                    candidates.append((-iou, m, c))
        candidates.sort()
        taken_members: set[int] = set()
        taken_clusters: set[int] = set()
        for _, m, c in candidates:
            if m in taken_members or c in taken_clusters:
                continue
            taken_members.add(m)
            taken_clusters.add(c)
            _join(clusters[c][1], members[m])
        for m, member in enumerate(members):
            if m not in taken_members:
                cluster = _Cluster(label=member.label)
                _join(cluster, member)
                clusters.append((member.item["type"], cluster))
    kept = [(k, c) for k, c in clusters if len(c.members) * 2 > len(groups)]
    return [
        _mean_rectangle(c, n) if kind == RECTANGLE else _central_polygon(c, n)
        for n, (kind, c) in enumerate(kept)
    ]


def _members(index: int, group: _Groups, weight: float) -> list[_Member]:
    members = []
    for label, item in group.get(RECTANGLE, ()):
        box = box_of(item["value"])
        if box is not None:
            rotation = finite_number(item["value"].get("rotation")) or 0.0
            members.append(_Member(index, label, item, weight, box=box, rotation=rotation))
    for label, item in group.get(POLYGON, ()):
        shape = polygon_shape(item["value"])
        if shape is not None:
            members.append(_Member(index, label, item, weight, shape=shape))
    return members


def _iou_to_cluster(member: _Member, cluster: _Cluster) -> float:
    if member.box is not None and cluster.box is not None:
        return rotated_box_iou(member.box, member.rotation, cluster.box, cluster.rotation)
    first = cluster.members[0].shape
    if member.shape is not None and first is not None:
        return shape_iou(member.shape, first)
    return 0.0


def _join(cluster: _Cluster, member: _Member) -> None:
    cluster.members.append(member)
    if member.box is None:
        return
    weight = member.weight if member.weight > 0 else 0.0
    values = (*member.box, member.rotation)
    weighted, plain = cluster.weighted, cluster.plain
    for i, value in enumerate(values):
        weighted[i] += weight * value
        plain[i] += value
    cluster.total += weight
    sums, total = (weighted, cluster.total) if cluster.total > 0 else (plain, len(cluster.members))
    cluster.box = (sums[0] / total, sums[1] / total, sums[2] / total, sums[3] / total)
    cluster.rotation = sums[4] / total


def _mean_rectangle(cluster: _Cluster, number: int) -> dict[str, Any]:
    first = cluster.members[0].item
    assert cluster.box is not None
    x, y, w, h = cluster.box
    region = _region_base(cluster, number)
    region["value"] = {
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "rotation": cluster.rotation,
        RECTANGLE: [cluster.label],
    }
    region["type"] = first["type"]
    return region


def _central_polygon(cluster: _Cluster, number: int) -> dict[str, Any]:
    members = cluster.members
    best, best_score = members[0], -1.0
    for member in members:  # in answer order: the earliest wins a tie
        others = [o for o in members if o is not member]
        score = (
            sum(shape_iou(member.shape, o.shape) for o in others if o.shape and member.shape)
            / len(others)
            if others
            else 1.0
        )
        if score > best_score:
            best, best_score = member, score
    region = _region_base(cluster, number)
    region["type"] = POLYGON
    region["value"] = {"points": best.item["value"]["points"], POLYGON: [cluster.label]}
    return region


def _region_base(cluster: _Cluster, number: int) -> dict[str, Any]:
    """id, from_name, to_name, and the image size of the first member that has one."""
    first = cluster.members[0].item
    region: dict[str, Any] = {"id": f"consensus-{number}"}
    for key in ("from_name", "to_name"):
        if key in first:
            region[key] = first[key]
    for member in cluster.members:
        if "original_width" in member.item and "original_height" in member.item:
            region["original_width"] = member.item["original_width"]
            region["original_height"] = member.item["original_height"]
            break
    return region


def _merge_spans(groups: Sequence[_Groups], order: dict[str, int]) -> list[dict[str, Any]]:
    counts: dict[tuple[int, int, str], int] = {}
    first: dict[tuple[int, int, str], tuple[int, dict[str, Any]]] = {}
    for index, group in enumerate(groups):
        seen = set()
        for label, item in group.get(SPANS, ()):
            start, end = item["value"].get("start"), item["value"].get("end")
            if type(start) is not int or type(end) is not int:
                continue
            key = (start, end, label)
            if key in seen:
                continue
            seen.add(key)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, (index, item))
    kept = sorted(
        (key for key, count in counts.items() if count * 2 > len(groups)),
        key=lambda k: (k[0], k[1], *_label_key(order, k[2], first[k][0])),
    )
    merged = []
    for number, (start, end, label) in enumerate(kept):
        item = first[(start, end, label)][1]
        region: dict[str, Any] = {"id": f"consensus-span-{number}"}
        for name in ("from_name", "to_name"):
            if name in item:
                region[name] = item[name]
        region["type"] = SPANS
        value: dict[str, Any] = {"start": start, "end": end}
        if "text" in item["value"]:
            value["text"] = item["value"]["text"]
        value[SPANS] = [label]
        region["value"] = value
        merged.append(region)
    return merged
