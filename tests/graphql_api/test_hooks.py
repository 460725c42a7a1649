"""Extension hooks found once per class (graphql_api/hooks.py) run as strawberry's runner runs
them: the same hooks, of the same instances, in the same order, whatever form each takes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from graphql_api import hooks
from graphql_api.hooks import ClassHooksRunner, class_hook
from graphql_api.schema import schema as ledger_schema


class Recording(SchemaExtension):
    """Every form a hook may take: a generator, an async generator, a plain function, a
    coroutine function; one instance per operation, named by its number."""

    made = 0

    def __init__(self, seen: list[str]) -> None:
        Recording.made += 1
        self.number = Recording.made
        self.seen = seen

    def on_operation(self) -> Iterator[None]:
        self.seen.append(f"{self.number} operation in")
        yield
        self.seen.append(f"{self.number} operation out")

    async def on_validate(self) -> AsyncIterator[None]:
        self.seen.append(f"{self.number} validate in")
        yield
        self.seen.append(f"{self.number} validate out")

    def on_parse(self) -> None:  # type: ignore[override]
        self.seen.append(f"{self.number} parse")

    async def on_execute(self) -> None:  # type: ignore[override]
        self.seen.append(f"{self.number} execute")


class Second(SchemaExtension):
    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def on_operation(self) -> Iterator[None]:
        self.seen.append("second operation in")
        yield
        self.seen.append("second operation out")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


class ClassHooksSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ClassHooksRunner(execution_context=execution_context, extensions=extensions)


def _run(schema_class: type[strawberry.Schema]) -> list[str]:
    seen: list[str] = []
    Recording.made = 0
    schema = schema_class(query=Query, extensions=[lambda: Recording(seen), lambda: Second(seen)])
    for _ in range(2):
        result = asyncio.run(schema.execute("{ hello }"))
        assert result.errors is None
        assert result.data == {"hello": "world"}
    return seen


def test_the_same_hooks_run_in_the_same_order_as_strawberrys_runner():
    ours = _run(ClassHooksSchema)
    assert ours == _run(strawberry.Schema)
    assert ours[:2] == ["1 operation in", "second operation in"]
    assert "2 execute" in ours  # the second operation's own instance


def test_an_exception_reaches_the_hooks_as_in_strawberry():
    def failing(schema_class: type[strawberry.Schema]) -> list[str]:
        seen: list[str] = []
        Recording.made = 0
        schema = schema_class(query=Query, extensions=[lambda: Recording(seen)])
        result = asyncio.run(schema.execute("{ hello("))
        assert result.errors
        return seen

    assert failing(ClassHooksSchema) == failing(strawberry.Schema)


def test_a_hook_is_wrapped_once_per_class(monkeypatch):
    planned: list[tuple[type[SchemaExtension], str]] = []
    plan = hooks._plan
    monkeypatch.setattr(hooks, "_found", {})

    def counted(cls: type[SchemaExtension], name: str) -> object:
        planned.append((cls, name))
        return plan(cls, name)

    monkeypatch.setattr(hooks, "_plan", counted)
    _run(ClassHooksSchema)  # two operations
    assert sorted(planned, key=str) == sorted(
        (
            (cls, f"on_{stage}")
            for cls in (Recording, Second)
            for stage in ("operation", "validate", "parse", "execute")
        ),
        key=str,
    )
    assert class_hook(Second, "on_parse") is None  # SchemaExtension's no-op: skipped


@pytest.mark.django_db
def test_the_ledger_schema_runs_its_extensions_through_class_hooks():
    runner = ledger_schema.create_extensions_runner(
        ExecutionContext(query="{ __typename }", schema=ledger_schema, allowed_operations=()),
        ledger_schema.get_extensions(),
    )
    assert isinstance(runner, ClassHooksRunner)


def _extension(behaviour: str, *, is_async: bool, seen: list[str], name: str) -> SchemaExtension:
    """An extension whose ``on_operation`` does ``behaviour`` around its ``yield``."""

    def entered() -> bool:
        if behaviour == "raises on enter":
            raise ValueError(f"{name} enter")
        return behaviour != "never yields"

    def failed(error: Exception) -> None:
        """Called in the hook's ``except``: returns to suppress, raises otherwise."""
        seen.append(f"{name} saw {type(error).__name__}")
        if behaviour == "suppresses":
            return
        if behaviour == "replaces":
            raise KeyError(f"{name} replaced") from error
        raise error

    def left() -> bool:
        """After the ``yield``: True to yield once more."""
        if behaviour == "raises on exit":
            raise ValueError(f"{name} exit")
        seen.append(f"{name} out")
        return behaviour == "yields twice"

    class Sync(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            if not entered():
                return
            try:
                yield
            except Exception as error:
                failed(error)
                return
            if left():
                yield

    class Async(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            if not entered():
                return
            try:
                yield
            except Exception as error:
                failed(error)
                return
            if left():
                yield

    return Async() if is_async else Sync()


BEHAVIOURS = (
    "plain",
    "suppresses",
    "replaces",
    "raises on exit",
    "yields twice",
    "never yields",
    "raises on enter",
)


async def _outcome(
    manager_class: type,
    behaviours: tuple[str, ...],
    *,
    body_fails: bool,
    is_async: bool,
    in_sync_execution: bool = False,
) -> list[str]:
    seen: list[str] = []
    extensions = [
        _extension(b, is_async=is_async and i % 2 == 0, seen=seen, name=f"h{i}")
        for i, b in enumerate(behaviours)
    ]
    try:
        if in_sync_execution:  # strawberry's execute_sync enters stages with ``with``
            with manager_class(extensions):
                seen.append("body")
                if body_fails:
                    raise RuntimeError("body")
        else:
            async with manager_class(extensions):
                seen.append("body")
                if body_fails:
                    raise RuntimeError("body")
    except Exception as error:
        context = type(error.__context__).__name__ if error.__context__ else None
        seen.append(f"raised {type(error).__name__}: {error} (context {context})")
    return seen


@pytest.mark.parametrize("body_fails", [False, True], ids=["body passes", "body fails"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync hooks", "mixed hooks"])
def test_directly_driven_hooks_unwind_exactly_as_strawberry_s_stage(body_fails, is_async):
    """Every pair of behaviours, inner and outer, against strawberry's own stage."""
    from strawberry.extensions.context import OperationContextManager

    from graphql_api.hooks import _Operation

    for outer in BEHAVIOURS:
        for inner in BEHAVIOURS:
            pair = ("plain", outer, inner)
            ours = asyncio.run(_outcome(_Operation, pair, body_fails=body_fails, is_async=is_async))
            theirs = asyncio.run(
                _outcome(OperationContextManager, pair, body_fails=body_fails, is_async=is_async)
            )
            assert ours == theirs, pair


@pytest.mark.parametrize("body_fails", [False, True], ids=["body passes", "body fails"])
def test_directly_driven_hooks_in_sync_execution_as_strawberry_s_stage(body_fails):
    """The same pairs through ``with`` (strawberry's ``execute_sync``), sync hooks only."""
    from strawberry.extensions.context import OperationContextManager

    from graphql_api.hooks import _Operation

    for outer in BEHAVIOURS:
        for inner in BEHAVIOURS:
            pair = ("plain", outer, inner)
            ours, theirs = (
                asyncio.run(
                    _outcome(
                        manager, pair, body_fails=body_fails, is_async=False, in_sync_execution=True
                    )
                )
                for manager in (_Operation, OperationContextManager)
            )
            assert ours == theirs, pair
