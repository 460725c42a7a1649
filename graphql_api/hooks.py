"""Strawberry's extension hooks, found once per extension class instead of on every operation.

For each stage of an operation (the operation, parsing, validation, execution) strawberry's
runner looks up every extension's hook by introspection (``inspect``) and wraps it in a new
context-manager factory (``contextlib.contextmanager`` over a bound method, a
``functools.wraps`` each): 28 look-ups and 8 wrappers per stats request, about 4% of its
instructions (callgrind, decision 0031). A hook is a function of the extension's class, so
here it is found once per class and stage; each operation runs the same hooks strawberry would,
in the same order, bound to that operation's extension instances.

The four stages of an operation go one step further (``_DrivenHooks``): where every hook of a
stage is a generator (the schema's all are), its generators are advanced directly, without a
``contextlib`` wrapper per hook and an exit stack per stage (5.7% of a stats request's
instructions, callgrind, decision 0032). When a hook fails or an exception comes through,
the hooks still open are unwound by ``contextlib`` itself, so suppression, replacement and
chaining stay strawberry's.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import AsyncGenerator, Callable, Generator
from types import TracebackType
from typing import cast

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    StreamResultContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import StreamExecutionResult

HookFactory = Callable[..., contextlib.AbstractContextManager[None]]
AsyncHookFactory = Callable[..., contextlib.AbstractAsyncContextManager[None]]


class _Unplanned:
    """A hook that is neither a generator nor an async generator: strawberry wraps it itself."""


UNPLANNED = _Unplanned()


Planned = tuple[HookFactory | AsyncHookFactory, bool]
"""A hook's context-manager factory (called with the extension) and whether it is async; the
generator function itself is the factory's ``__wrapped__``."""
_found: dict[tuple[type[SchemaExtension], str], Planned | _Unplanned | None] = {}


def class_hook(cls: type[SchemaExtension], name: str) -> Planned | _Unplanned | None:
    """The context-manager factory for ``cls``'s hook ``name`` (called with the extension
    instance) and whether it is async; None where ``cls`` keeps ``SchemaExtension``'s no-op.
    Found once per class and hook."""
    key = (cls, name)
    if key not in _found:
        _found[key] = _plan(cls, name)
    return _found[key]


def _plan(cls: type[SchemaExtension], name: str) -> Planned | _Unplanned | None:
    function = getattr(cls, name)
    if function is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(function):
        return contextlib.contextmanager(function), False
    if inspect.isasyncgenfunction(function):
        return contextlib.asynccontextmanager(function), True
    return UNPLANNED


class _ClassHooks(ExtensionContextManagerBase):
    """A stage's context manager whose hooks come from ``class_hook``."""

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = class_hook(type(extension), self.HOOK_NAME)
        if found is None:
            return None
        if isinstance(found, _Unplanned):
            return super().get_hook(extension)
        factory, is_async = found
        return WrappedHook(
            extension=extension, hook=functools.partial(factory, extension), is_async=is_async
        )


Hook = Generator[None, None, None] | AsyncGenerator[None, None]
Running = list[tuple[Hook, bool]]


class _DrivenHooks(_ClassHooks):
    """A stage whose generator hooks are advanced directly (module docstring); a stage with
    any other form of hook is strawberry's, through ``_ClassHooks``. Like strawberry's, its
    exits return None: a hook that suppresses an exception hides it from the hooks outside it,
    not from the operation."""

    __slots__ = ("_planned", "_running")

    def __init__(self, extensions: list[SchemaExtension]) -> None:
        planned: list[tuple[Callable[[SchemaExtension], Hook], SchemaExtension, bool]] = []
        for extension in extensions:
            found = class_hook(type(extension), self.HOOK_NAME)
            if found is None:
                continue
            if isinstance(found, _Unplanned):
                self._planned = None
                super().__init__(extensions)
                return
            factory, is_async = found
            planned.append((factory.__wrapped__, extension, is_async))  # type: ignore[union-attr]
        self._planned = planned
        self.hooks = []

    async def __aenter__(self) -> None:
        if self._planned is None:
            return await super().__aenter__()
        self._running = []
        for function, extension, is_async in self._planned:
            hook = function(extension)
            if is_async:
                await _astart(cast(AsyncGenerator[None, None], hook))
            else:
                _start(cast(Generator[None, None, None], hook))
            self._running.append((hook, is_async))
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self._planned is None:
            return await super().__aexit__(exc_type, exc_val, exc_tb)
        running = self._running
        if exc_type is not None:
            await _unwind(running, exc_type, exc_val, exc_tb)
            return None
        while running:
            hook, is_async = running.pop()
            try:
                if is_async:
                    await _afinish(cast(AsyncGenerator[None, None], hook))
                else:
                    _finish(cast(Generator[None, None, None], hook))
            except BaseException:  # the hook failed on its way out: the rest see it
                if not await _unwind(running, *sys.exc_info()):
                    raise
                return None
        return None

    def __enter__(self) -> None:
        if self._planned is None:
            return super().__enter__()
        self._running = []
        for function, extension, is_async in self._planned:
            if is_async:
                raise RuntimeError(
                    f"SchemaExtension hook {extension}.{self.HOOK_NAME} "
                    "failed to complete synchronously."
                )
            hook = cast(Generator[None, None, None], function(extension))
            _start(hook)
            self._running.append((hook, False))
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Rare (strawberry's sync execution): ``contextlib`` exits every hook."""
        if self._planned is None:
            return super().__exit__(exc_type, exc_val, exc_tb)
        stack = contextlib.ExitStack()
        for hook, _ in self._running:
            stack.push(_resumed(cast(Generator[None, None, None], hook)).__exit__)
        stack.__exit__(exc_type, exc_val, exc_tb)
        return None


def _start(hook: Generator[None, None, None]) -> None:
    """``contextlib``'s enter: the hook runs to its ``yield``."""
    try:
        next(hook)
    except StopIteration:
        raise RuntimeError("generator didn't yield") from None


async def _astart(hook: AsyncGenerator[None, None]) -> None:
    try:
        await hook.__anext__()
    except StopAsyncIteration:
        raise RuntimeError("generator didn't yield") from None


def _finish(hook: Generator[None, None, None]) -> None:
    """``contextlib``'s exit without an exception: the hook runs to its end."""
    try:
        next(hook)
    except StopIteration:
        return
    try:
        raise RuntimeError("generator didn't stop")
    finally:
        hook.close()


async def _afinish(hook: AsyncGenerator[None, None]) -> None:
    try:
        await hook.__anext__()
    except StopAsyncIteration:
        return
    try:
        raise RuntimeError("generator didn't stop")
    finally:
        await hook.aclose()


def _resumed(hook: Generator[None, None, None]) -> contextlib.AbstractContextManager[None]:
    """``contextlib``'s own context manager over a hook already past its ``yield``."""
    return contextlib.contextmanager(lambda: hook)()


def _aresumed(
    hook: AsyncGenerator[None, None],
) -> contextlib.AbstractAsyncContextManager[None]:
    return contextlib.asynccontextmanager(lambda: hook)()


async def _unwind(
    running: Running,
    exc_type: type[BaseException] | None,
    exc_val: BaseException | None,
    exc_tb: TracebackType | None,
) -> bool:
    """Exit the hooks still open, innermost first, through ``contextlib``'s own context
    managers and exit stack, as strawberry's stage does; True if one suppressed the
    exception."""
    stack = contextlib.AsyncExitStack()
    for hook, is_async in running:
        if is_async:
            stack.push_async_exit(_aresumed(cast(AsyncGenerator[None, None], hook)).__aexit__)
        else:
            stack.push(_resumed(cast(Generator[None, None, None], hook)).__exit__)
    running.clear()
    return bool(await stack.__aexit__(exc_type, exc_val, exc_tb))


class _Operation(_DrivenHooks, OperationContextManager):
    pass


class _Validation(_DrivenHooks, ValidationContextManager):
    pass


class _Parsing(_DrivenHooks, ParsingContextManager):
    pass


class _Executing(_DrivenHooks, ExecutingContextManager):
    pass


class _StreamResult(_ClassHooks, StreamResultContextManager):
    pass


class ClassHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, each stage's hooks found by ``class_hook``."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)

    def on_stream_result(self, result: StreamExecutionResult) -> StreamResultContextManager:
        return _StreamResult(self.extensions, result)
