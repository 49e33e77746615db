"""Label configs that would put task data into annotators' pages as markup are refused
(server.projects.label_config.MARKUP_TAGS): HyperText, HyperTextLabels and Style, in any
case spelling and at any depth; Text and Header show their values as text."""

from __future__ import annotations

import httpx
import pytest

from tests import realistic
from tests.helpers import TestUser
from tests.workflow.support import Rest

REFUSED = [
    ('<View><HyperText name="text" value="$text"/></View>', "HyperText"),
    ('<View><hypertext name="text" value="$text" inline="true"/></View>', "hypertext"),
    ('<View><View><HYPERTEXT name="t" value="$text"/></View></View>', "HYPERTEXT"),
    (
        '<View><Text name="text" value="$text"/><HyperTextLabels name="l" toName="text">'
        '<Label value="PER"/></HyperTextLabels></View>',
        "HyperTextLabels",
    ),
    (
        '<View><Style>.ls-editor { display: none }</Style><Text name="text" value="$text"/></View>',
        "Style",
    ),
]
ACCEPTED = (
    '<View><Header value="$text"/><Text name="text" value="$text"/>'
    '<Labels name="label" toName="text"><Label value="PER"/></Labels></View>'
)


@pytest.mark.parametrize(("config", "tag"), REFUSED)
async def test_markup_tags_are_refused_naming_the_tag(
    admin: TestUser, http_client: httpx.AsyncClient, config: str, tag: str
) -> None:
    owner = Rest(http_client, admin)
    created = await owner.call(
        "POST", "/api/external/projects/init", json=realistic.text_init("ner")
    )
    response = await http_client.post(
        f"/api/v1/projects/{created['project_id']}/configure",
        json={"label_config": config},
        headers=owner.headers,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_REQUEST"
    assert body["details"] == {"field": "label_config", "tag": tag}
    assert f"<{tag}>" in body["message"]


async def test_text_and_header_are_accepted(
    admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    owner = Rest(http_client, admin)
    created = await owner.call(
        "POST", "/api/external/projects/init", json=realistic.text_init("ner")
    )
    configured = await owner.call(
        "POST",
        f"/api/v1/projects/{created['project_id']}/configure",
        json={"label_config": ACCEPTED},
    )
    assert configured["config"] == ACCEPTED
