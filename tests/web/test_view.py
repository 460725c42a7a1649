"""The page shell, without a browser (runs on SQLite and PostgreSQL): served for any username,
escaped, its assets present, and its script built only from safe DOM calls."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

WEB = Path(__file__).resolve().parents[2] / "web"
SCRIPTS = sorted((WEB / "static" / "web").glob("*.js"))


def test_the_shell_is_served_for_a_username_with_what_the_script_needs(client: Client) -> None:
    response = client.get("/u/alice/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-username="alice"' in html
    assert 'data-graphql="/graphql/"' in html
    assert '<script type="module" src="/static/web/profile.js"></script>' in html
    assert 'href="/static/web/profile.css"' in html
    assert 'aria-live="polite"' in html
    assert "csrftoken" in response.cookies  # a signed-in viewer's POSTs pass the API's CSRF check


@pytest.mark.django_db
def test_the_shell_does_not_look_users_up_an_unknown_one_is_the_api_s_answer(
    client: Client, django_assert_num_queries
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/u/nobody-at-all/")
    assert response.status_code == 200
    assert 'data-username="nobody-at-all"' in response.content.decode()


def test_a_hostile_username_is_escaped_in_the_shell(client: Client) -> None:
    response = client.get("/u/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<img" not in html
    assert 'data-username="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html


def test_only_reads_are_allowed(client: Client) -> None:
    assert client.post("/u/alice/").status_code == 405
    assert client.head("/u/alice/").status_code == 200


@pytest.mark.parametrize("name", ["web/profile.js", "web/profile.css", "web/graphql.js"])
def test_the_assets_are_static_files_of_the_project(name: str) -> None:
    assert finders.find(name), name


def test_scripts_import_only_their_siblings_and_fetch_nothing_from_outside() -> None:
    for script in SCRIPTS:
        source = script.read_text()
        for target in re.findall(r'from\s+"([^"]+)"', source):
            assert re.fullmatch(r"\./[a-z]+\.js", target), (script.name, target)
            assert (script.parent / target).is_file(), (script.name, target)
        assert "http://" not in source.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in source


def test_scripts_never_turn_data_into_markup() -> None:
    """Text goes in with textContent only: no innerHTML, outerHTML, insertAdjacentHTML,
    document.write or eval anywhere in the page's scripts."""
    forbidden = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(")
    assert SCRIPTS
    for script in SCRIPTS:
        assert not forbidden.search(script.read_text()), script.name


def test_web_imports_nothing_of_ours() -> None:
    """The page is a client of the public API: no ledger, esports or graphql_api imports."""
    ours = {"ledger", "esports", "graphql_api", "config"}
    for module in WEB.rglob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ours, (module.name, name)
