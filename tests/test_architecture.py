"""Imports go one way (docs/reference.md, "Layers"): no package or module cycle, and each
library module imports only from its own layer or lower. Parses the source (ast), so a
function-local import counts as much as a module-level one."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ('audio_context_encoder', 'tfrecords_tools', 'experiments', 'benchmarks')
LIBRARY = 'audio_context_encoder'

# The library's layers, lowest first: its packages (and the three modules at its top). A module
# may import modules of its own package, and of packages of its own layer or lower; no package
# cycle (test_no_package_cycle_inside_the_library).
LAYERS = {
    # 0: foundations, no signal model: the parameters, one-line errors, all-or-nothing writes,
    # worker processes and the optional numba kernels
    '__init__': 0, 'config': 0, 'common': 0,
    # 1: audio in and out, dataset manifests and §3.2 windows, signal processing without learning,
    # the one training loop (it knows no model)
    'audio': 1, 'data': 1, 'dsp': 1, 'training': 1,
    # 2: what learns: the context encoder (Marafioti et al. 2019), the long-gap models (Chang et al.)
    'context_encoder': 2, 'longgap': 2,
    # 3: the ways to fill a gap behind one interface, and inpainting files with them
    'methods': 3,
    # 4: their evaluation: tables, the excerpt protocol, ViSQOL, the listening page
    'evaluation': 4,
    # 5: the command line
    'cli': 5, '__main__': 5,
}
TOP_MODULES = ('__init__', '__main__', 'config')  # the only modules outside a package


def modules():
  """{dotted name: path} of every Python module of the project's packages."""
  found = {}
  for package in PACKAGES:
    for path in sorted((ROOT / package).rglob('*.py')):
      parts = list(path.relative_to(ROOT).with_suffix('').parts)
      found['.'.join(parts)] = path
  return found


def imports(name: str, path: pathlib.Path, known) -> set:
  """Project modules that `name` imports (anywhere in the file)."""
  out = set()
  package = name.split('.')[:-1]  # for 'pkg.mod' and 'pkg.__init__' alike: ['pkg']
  for node in ast.walk(ast.parse(path.read_text(), str(path))):
    if isinstance(node, ast.Import):
      targets = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ''
      if node.level:  # relative: from . import x, from ..pkg import y
        base = '.'.join(package[:len(package) - node.level + 1] + ([base] if base else []))
      targets = [f'{base}.{a.name}' for a in node.names] + [base]
    else:
      continue
    for target in targets:
      while target and target not in known:
        if target + '.__init__' in known:  # a package: its __init__
          target += '.__init__'
          break
        target = target.rpartition('.')[0]
      if target and target != name:
        out.add(target)
  return out


def graph():
  found = modules()
  known = set(found) | set(PACKAGES)
  return {name: {t for t in imports(name, path, known) if t in found or t in PACKAGES}
          for name, path in found.items()}


def cycle(edges) -> list:
  """One cycle of the directed graph `edges` ({node: set of nodes}) as a list, or []."""
  state, stack = {}, []

  def visit(node):
    state[node] = 'open'
    stack.append(node)
    for nxt in sorted(edges.get(node, ())):
      if state.get(nxt) == 'open':
        return stack[stack.index(nxt):] + [nxt]
      if nxt not in state:
        found = visit(nxt)
        if found:
          return found
    stack.pop()
    state[node] = 'done'
    return []

  for node in sorted(edges):
    if node not in state:
      found = visit(node)
      if found:
        return found
  return []


def short(module: str) -> str:
  return module[len(LIBRARY) + 1:] if module.startswith(LIBRARY + '.') else '__init__'


def part(module: str) -> str:
  """The layer unit of a library module: its package, or the module itself at the top."""
  return short(module).split('.')[0]


def test_the_cycle_finder_finds_cycles():
  assert cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
  assert cycle({'a': {'b', 'c'}, 'b': {'c'}, 'c': set()}) == []


def test_no_module_cycle():
  edges = graph()
  assert 'audio_context_encoder.evaluation.evaluation' in edges and edges['audio_context_encoder.evaluation.evaluation']
  loop = cycle({k: {t for t in v if t not in PACKAGES} for k, v in edges.items()})
  assert not loop, 'import cycle: ' + ' -> '.join(loop)


def test_no_package_cycle_and_the_library_imports_no_other_package():
  packages = {}
  for name, targets in graph().items():
    source = name.split('.')[0]
    packages.setdefault(source, set()).update(
        t.split('.')[0] for t in targets if t.split('.')[0] != source)
  assert not cycle(packages), 'package cycle: ' + ' -> '.join(cycle(packages))
  assert packages[LIBRARY] == set(), f'{LIBRARY} imports {sorted(packages[LIBRARY])}'


def library_modules():
  return sorted(m for m in graph() if m.split('.')[0] == LIBRARY)


def test_every_library_module_is_in_a_package_with_a_layer():
  modules = library_modules()
  flat = [short(m) for m in modules if '.' not in short(m) and short(m) not in TOP_MODULES]
  assert not flat, (f'{flat}: put each library module in the package of its layer '
                    '(docs/reference.md, "Layers"), not at the top of the library')
  missing = sorted({part(m) for m in modules} - set(LAYERS))
  assert not missing, (f'{missing}: add each new library package to LAYERS in '
                       'tests/test_architecture.py (and docs/reference.md, "Layers")')
  stale = sorted(set(LAYERS) - {part(m) for m in modules})
  assert not stale, f'{stale}: in LAYERS but no longer in the library; remove them'


def test_no_package_cycle_inside_the_library():
  edges = {}
  for name, targets in graph().items():
    if name.split('.')[0] == LIBRARY:
      edges.setdefault(part(name), set()).update(
          part(t) for t in targets if t.split('.')[0] == LIBRARY and t != LIBRARY
          and part(t) != part(name))
  loop = cycle(edges)
  assert not loop, 'package cycle: ' + ' -> '.join(loop)


@pytest.mark.parametrize('module', library_modules())
def test_imports_go_down_the_layers(module):
  edges = graph()
  layer = LAYERS.get(part(module))
  if layer is None:
    pytest.skip('its package is not in LAYERS (the test above fails)')
  upward = [f'{short(t)} (layer {LAYERS[part(t)]})' for t in sorted(edges[module])
            if t.split('.')[0] == LIBRARY and t != LIBRARY
            and LAYERS.get(part(t), -1) > layer]
  assert not upward, f'{short(module)} (layer {layer}) imports upward: {", ".join(upward)}'


def test_experiments_are_entry_points_only():
  """Each module of experiments/ is a page of flags that runs (app.run), importing the library
  and tfrecords_tools; none imports another, so the logic they share lives in the library."""
  edges = graph()
  for name, path in modules().items():
    if name.split('.')[0] != 'experiments' or name.endswith('__init__'):
      continue
    assert "__name__ == '__main__'" in path.read_text(), f'{name}: not an entry point'
    siblings = sorted(t for t in edges[name] if t.split('.')[0] == 'experiments'
                      and not t.endswith('__init__') and t != 'experiments')
    assert not siblings, f'{name} imports {siblings}: move what they share into the library'
