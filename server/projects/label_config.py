"""Label Studio labeling configs per task type (SPEC §5).

Label values are XML-escaped (including quotes and line breaks, which an
attribute would otherwise normalize away), so any label text yields a config
that parses. Classification configs list plain `<Choice value=…/>` (Label
Studio's Choice has no colour attribute); region configs carry each label's
colour as `background`.

Without labels, the config holds only the object tag: Label Studio's schema
refuses an empty `<Choices>` or `<Labels>` (its validator reports "'View' is
a required property"), and a control with nothing to choose labels nothing.
The same rule holds for every task type, so a config with no labels looks
alike whatever the type; the control appears once labels are added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from annotation_api.errors import DomainError, ErrorCode
from server.vocabulary import TaskType


@dataclass(frozen=True, slots=True)
class ConfigShape:
    object_tag: str
    object_name: str
    control_tag: str
    child_tag: str
    colored: bool


SHAPES: dict[str, ConfigShape] = {
    TaskType.TEXT_CLASSIFICATION: ConfigShape("Text", "text", "Choices", "Choice", False),
    TaskType.IMAGE_CLASSIFICATION: ConfigShape("Image", "image", "Choices", "Choice", False),
    TaskType.OBJECT_DETECTION: ConfigShape("Image", "image", "RectangleLabels", "Label", True),
    TaskType.NER: ConfigShape("Text", "text", "Labels", "Label", True),
    TaskType.POLYGON: ConfigShape("Image", "image", "PolygonLabels", "Label", True),
}

CONTROL_NAME = "label"

_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def xml_attribute(value: str) -> str:
    """value as a double-quoted XML attribute."""
    return '"' + escape(value, _ATTRIBUTE_ESCAPES) + '"'


def data_key(task_type: str) -> str:
    """The key of a task's data that holds its content: "text" or "image"."""
    return SHAPES[task_type].object_name


def build_label_config(task_type: str, labels: Sequence[tuple[str, str]]) -> str:
    """The config for task_type with labels [(name, color), ...] (none: no control)."""
    shape = SHAPES[task_type]
    name = shape.object_name
    lines = ["<View>", f'  <{shape.object_tag} name="{name}" value="${name}"/>']
    if not labels:
        return "\n".join([*lines, "</View>"])
    lines.append(f'  <{shape.control_tag} name="{CONTROL_NAME}" toName="{name}">')
    for label, color in labels:
        background = f" background={xml_attribute(color)}" if shape.colored else ""
        lines.append(f"    <{shape.child_tag} value={xml_attribute(label)}{background}/>")
    lines += [f"  </{shape.control_tag}>", "</View>"]
    return "\n".join(lines)


# Tags that put markup into the annotators' pages (Label Studio 1.4.0), refused in any case
# spelling: HyperText renders its data as HTML (inline, or in an iframe allowed to run
# scripts with the page's origin), HyperTextLabels labels HyperText, and Style writes its
# text into a <style> element of the page. Annotators are shared across tenants and task
# text is shown as text (<Text> escapes it), so no config may turn task data into markup.
MARKUP_TAGS = {"hypertext": "HyperText", "hypertextlabels": "HyperTextLabels", "style": "Style"}


def check_label_config(config: str) -> str:
    """A caller-supplied config must be XML whose root is <View> and that uses none of the
    MARKUP_TAGS; INVALID_REQUEST otherwise."""
    try:
        root = ElementTree.fromstring(config)
    except ElementTree.ParseError as exc:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"label_config is not well-formed XML: {exc}",
            {"field": "label_config"},
        ) from exc
    if root.tag != "View":
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            "label_config must have <View> as its root element",
            {"field": "label_config"},
        )
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = element.tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
        refused = MARKUP_TAGS.get(name.lower())
        if refused is not None:
            raise DomainError(
                ErrorCode.INVALID_REQUEST,
                f"label_config may not use <{name}>: it would render task data or config "
                f"text as HTML in the annotators' pages (use <Text> for text)",
                {"field": "label_config", "tag": name},
            )
    return config
