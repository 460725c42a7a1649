"""GraphiQL offline: vendored assets replace the CDN ones; the page opens on our first query."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.templatetags.static import static
from strawberry.http.ides import get_graphql_ide_html

from graphql_api import graphiql

STRAWBERRY_PAGE = get_graphql_ide_html(graphql_ide="graphiql")


def test_the_page_names_seven_cdn_assets_with_integrity_hashes():
    found = graphiql.assets(STRAWBERRY_PAGE)
    assert {a.package for a in found} == {
        "react@18.2.0",
        "react-dom@18.2.0",
        "js-cookie@3.0.5",
        "graphiql@3.8.3",
        "@graphiql/plugin-explorer@1.0.2",
    }
    assert len(found) == 7
    assert all(a.integrity.startswith("sha384-") for a in found)


def test_integrity_is_checked_on_content():
    content = b"console.log('hi')"
    digest = base64.b64encode(hashlib.sha384(content).digest()).decode()
    asset = graphiql.Asset("x@1.0.0", "x.js", f"sha384-{digest}")
    assert asset.matches(content)
    assert not asset.matches(content + b" ")


def test_vendored_assets_are_served_locally_and_missing_ones_stay_on_the_cdn(monkeypatch, tmp_path):
    monkeypatch.setattr(graphiql, "VENDOR_DIR", tmp_path)
    react = next(a for a in graphiql.assets(STRAWBERRY_PAGE) if a.package == "react@18.2.0")
    react.local_path.parent.mkdir(parents=True)
    react.local_path.write_text("vendored")
    html = graphiql.offline_html(STRAWBERRY_PAGE)
    assert react.url not in html
    assert static("graphiql/react@18.2.0/umd/react.production.min.js") in html
    assert "https://unpkg.com/graphiql@3.8.3/graphiql.min.js" in html
    assert "query FirstLook" in html
    assert "Welcome to GraphiQL" not in html


@pytest.mark.django_db
def test_the_debug_page_sets_the_csrf_cookie_graphiql_sends_back(client, settings):
    settings.DEBUG = True
    page = client.get("/graphql/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    assert b"query FirstLook" in page.content


def test_the_first_query_is_valid_and_uses_nothing_deprecated():
    """The example a developer runs first shows the typed fields, not deprecated ones."""
    from graphql import parse, validate
    from graphql.validation import NoDeprecatedCustomRule

    from graphql_api.schema import schema

    document = parse(graphiql.FIRST_QUERY)
    assert validate(schema._schema, document) == []
    assert validate(schema._schema, document, [NoDeprecatedCustomRule]) == []
