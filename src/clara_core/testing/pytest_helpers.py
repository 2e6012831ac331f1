"""``parametrize_with_checks``: one pytest test per (component, check)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from clara_core.testing.checks import checks_for


def _id(obj: Any) -> str:
    if isinstance(obj, functools.partial):
        return obj.func.__name__
    return getattr(obj, "__name__", None) or type(obj).__name__


def parametrize_with_checks(
    components: Iterable[Any],
    expected_failed_checks: Callable[[Any], Mapping[str, str]] | None = None,
    sample: Callable[[Any], Any] | None = None,
) -> Any:
    """A ``pytest.mark.parametrize("component, check", ...)`` over every applicable check.

    ``expected_failed_checks(component)`` returns ``{check_name: reason}`` for known
    failures, which are marked ``xfail(strict=True)`` with the reason.
    ``sample(component)`` builds the input of transform checks (for loaders, a
    ``TransformContext`` of file names); by default a synthetic image per field.
    """
    import pytest

    params = []
    for component in components:
        expected = dict(expected_failed_checks(component)) if expected_failed_checks else {}
        for check in checks_for(component):
            bound: Any = check
            if sample is not None and "sample" in check.__code__.co_varnames:
                bound = functools.partial(check, sample=sample)  # type: ignore[call-arg]
                functools.update_wrapper(bound, check)
            name = _id(check)
            marks = [pytest.mark.xfail(reason=expected[name], strict=True)] \
                if name in expected else []
            params.append(pytest.param(component, bound, marks=marks,
                                       id=f"{type(component).__name__}-{name}"))
    return pytest.mark.parametrize("component, check", params)


def conformance_tests(
    components: Iterable[Any],
    expected_failed_checks: Callable[[Any], Mapping[str, str]] | None = None,
    sample: Callable[[Any], Any] | None = None,
) -> Any:
    """A ready test function, for one line in a test module::

        test_conformance = conformance_tests([MyLoss(), MyTransform(fields=["image"])])

    Arguments as :func:`parametrize_with_checks`.
    """

    @parametrize_with_checks(components, expected_failed_checks, sample)  # type: ignore[untyped-decorator]
    def test_conformance(component: Any, check: Any) -> None:
        check(component)

    return test_conformance
