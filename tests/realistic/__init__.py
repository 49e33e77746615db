"""Realistic test data: what real models, datasets and the Label Studio front end produce.

One place for the data every area's tests share, so that no test is kinder
than a real project:

* an object-detection project whose tasks carry NO image size in `metadata`
  (as the README's init example), several boxes per image from TWO model
  versions, one image whose correct answer is a negative, colliding stems in
  one folder (`x.png`, `x.jpg`, `X.png`, `x.jpeg`), non-ASCII and spaced file
  names, a sub-pixel overrun (`[180.0, 90.0, 20.4, 10.0]` px in 200x100, as
  pycocotools-style output writes it), and the images' natural sizes;
* an NER project with `span` pre-labels and a text-classification project with
  class-only pre-labels (AAP's extension), both from two model versions, each
  with a negative;
* what Label Studio 1.4.0's front end submits for a region
  (`ls_submitted`, `ls_box_region`), so that tests submit results exactly as it
  returns them.

Items are addressed by `key`, which is also the task's external id
(`data[].id`), so a test finds its task ids with `task_ids_by_key`.

Import the package (`from tests import realistic`); its parts are common (versions,
labels, task matching, PNGs), detection, text and label_studio.
"""

from __future__ import annotations

from tests.realistic.common import (
    CLASSIFICATION_LABELS,
    CLASSIFIER_NEW,
    CLASSIFIER_OLD,
    DETECTION_LABELS,
    DETECTOR_NEW,
    DETECTOR_OLD,
    FROM_NAME,
    IMAGE_HOST,
    NER_LABELS,
    NER_NEW,
    NER_OLD,
    Match,
    png_bytes,
    task_ids_by_key,
    task_match,
)
from tests.realistic.detection import (
    COLLIDING_KEYS,
    DETECTION,
    DETECTION_ITEMS,
    OVERRUN_BOX,
    Box,
    ImageItem,
    bbox_prediction,
    coco_ground_truth,
    detection_init,
    detection_predictions,
    natural_sizes,
    prediction_count,
)
from tests.realistic.label_studio import (
    CAPTURE_PATH,
    STAGE_WIDTH,
    check_label_studio_shape,
    label_studio_capture,
    ls_box_region,
    ls_region,
    ls_submitted,
)
from tests.realistic.text import (
    CLASSIFICATION_ITEMS,
    NER_ITEMS,
    Span,
    TextItem,
    class_prediction,
    span_prediction,
    text_init,
    text_predictions,
)

__all__ = [
    "CAPTURE_PATH",
    "CLASSIFICATION_ITEMS",
    "CLASSIFICATION_LABELS",
    "CLASSIFIER_NEW",
    "CLASSIFIER_OLD",
    "COLLIDING_KEYS",
    "DETECTION",
    "DETECTION_ITEMS",
    "DETECTION_LABELS",
    "DETECTOR_NEW",
    "DETECTOR_OLD",
    "FROM_NAME",
    "IMAGE_HOST",
    "NER_ITEMS",
    "NER_LABELS",
    "NER_NEW",
    "NER_OLD",
    "OVERRUN_BOX",
    "STAGE_WIDTH",
    "Box",
    "ImageItem",
    "Match",
    "Span",
    "TextItem",
    "bbox_prediction",
    "check_label_studio_shape",
    "class_prediction",
    "coco_ground_truth",
    "detection_init",
    "detection_predictions",
    "label_studio_capture",
    "ls_box_region",
    "ls_region",
    "ls_submitted",
    "natural_sizes",
    "png_bytes",
    "prediction_count",
    "span_prediction",
    "task_ids_by_key",
    "task_match",
    "text_init",
    "text_predictions",
]
