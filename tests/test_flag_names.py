"""Entry points the tests import must not define the same absl flag.

pytest imports every test module into one process, and absl refuses a flag defined twice, so
two entry modules with a common flag name break the collection of the whole suite (this
happened twice: --data_dir, then --out).
"""

import ast
import collections
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def imported_modules(path: pathlib.Path):
  """Dotted names of the modules a file imports (`from a import b` counts a.b as well)."""
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      yield node.module
      yield from (f'{node.module}.{alias.name}' for alias in node.names)


def defined_flags(path: pathlib.Path):
  """Names passed to flags.DEFINE_*('name', ...) at import time (module-level statements)."""
  calls = [stmt.value for stmt in ast.parse(path.read_text()).body if isinstance(stmt, ast.Expr)]
  for node in calls:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith('DEFINE') and node.args
        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
      yield node.args[0].value


def test_no_flag_is_defined_by_two_entry_points_the_tests_import():
  modules = {m for test in (ROOT / 'tests').glob('test_*.py') for m in imported_modules(test)}
  owners = collections.defaultdict(set)
  for module in modules:
    path = ROOT / (module.replace('.', '/') + '.py')
    if path.is_file():
      for name in defined_flags(path):
        owners[name].add(module)
  shared = {name: sorted(mods) for name, mods in owners.items() if len(mods) > 1}
  assert not shared, (f'flags defined by two modules that tests import: {shared}; move the logic '
                      'the test needs into a module without flags (e.g. audio_context_encoder/longgap/trainer.py)')


def test_the_check_sees_flags_and_imports(tmp_path):
  """The walkers find what they look for (so the test above can fail)."""
  assert 'music_data' in set(defined_flags(ROOT / 'experiments' / 'tables.py'))
  test = tmp_path / 'test_x.py'
  test.write_text('from experiments import tables\n\ndef f():\n  import tfrecords_tools.build\n')
  assert {'experiments.tables', 'tfrecords_tools.build'} <= set(imported_modules(test))
