"""The one shape of a command's main(): each entry point of experiments/ and tfrecords_tools/ fails
in one line, never with a traceback, and says what an interruption kept."""

import sys
from typing import Callable, Optional, Tuple, Type

from audio_context_encoder.common import compute, errors


def run_main(problem: Optional[str], run: Callable[[], Optional[int]],
             known: Tuple[Type[BaseException], ...], kept: str, problem_code: int = 2,
             error_code: int = 2, kill_on_sigterm: bool = True) -> int:
  """`problem` (the flags' check, done before any work) or run(), with SIGTERM raised as
  errors.Terminated. A `known` error prints one line and returns error_code; Ctrl-C (130) and
  SIGTERM (143) print what is `kept` ('nothing was written', ...). Ctrl-C kills the worker
  processes, and so does SIGTERM unless kill_on_sigterm is False (the builder's workers then end
  with their parent, compute.worker_pool, rather than be killed mid-start)."""
  if problem:
    print(f'error: {problem}', file=sys.stderr)
    return problem_code
  try:
    with errors.sigterm_raises():
      return run() or 0
  except known as e:
    print(f'error: {e}', file=sys.stderr)
    return error_code
  except (KeyboardInterrupt, errors.Terminated) as e:
    if isinstance(e, KeyboardInterrupt) or kill_on_sigterm:
      compute.stop_workers()
    what = 'interrupted' if isinstance(e, KeyboardInterrupt) else 'terminated (SIGTERM)'
    print(f'{what}; {kept}', file=sys.stderr)
    return 130 if isinstance(e, KeyboardInterrupt) else 143
