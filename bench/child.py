"""Child-process entry point: ``python -m bench.child module:function JSON_KWARGS``.

Prints one line ``BENCH-RESULT {"seconds": ..., "result": {...}, "error": ...}``.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
from typing import Any

from bench.isolate import RESULT_PREFIX


def call(target: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    started = time.perf_counter()
    try:
        result = function(**kwargs)
        error = None
    except Exception as exc:  # the contender's failure is a result, not a crash
        result, error = {}, f"{type(exc).__name__}: {str(exc)[:300]}"
    return {"seconds": time.perf_counter() - started, "result": result, "error": error}


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    outcome = call(argv[1], json.loads(argv[2]))
    print(RESULT_PREFIX + json.dumps(outcome, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv)
