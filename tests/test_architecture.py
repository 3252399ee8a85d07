"""Imports go one way (docs/reference.md, "Layers"): no package or module cycle, and each
library module imports only from its own layer or lower. Parses the source (ast), so a
function-local import counts as much as a module-level one."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ('audio_context_encoder', 'tfrecords_tools', 'experiments', 'benchmarks')
LIBRARY = 'audio_context_encoder'

# The library's layers, lowest first. A module may import modules of its own layer or lower.
LAYERS = {
    # 0: foundations, no signal model
    'errors': 0, 'config': 0, 'atomic': 0, 'compute': 0, '__init__': 0,
    # 1: the signal model: audio in, windows, STFT/DGT features, dataset manifests, metrics
    'audio_file': 1, 'audio_io': 1, 'segmenting': 1, 'manifest': 1, 'dgt': 1, 'features': 1,
    'metrics': 1, 'perceptual': 1,
    # the long-gap package's protocol, STFT and metrics (Chang et al. 2019)
    'longgap.__init__': 1, 'longgap.config': 1, 'longgap.spectrogram': 1, 'longgap.tf_stft': 1,
    'longgap.metrics': 1, 'longgap.model_config': 1, 'longgap.receptive_field': 1,
    'longgap.paper_tables': 1,
    # 2: what learns, what it reads (inputs, tf.data) and what reconstructs
    'model': 2, 'losses': 2, 'training': 2, 'overfit': 2, 'inference': 2, 'network_inputs': 2,
    'reader': 2,
    'phase': 2, 'phase_tf': 2, 'lpc': 2, 'lpc_tf': 2, 'reference': 2, 'janssen': 2,
    # the long-gap package beside reconstruction: its models and baselines (on phase and lpc)
    'longgap.gated': 2, 'longgap.losses': 2, 'longgap.models': 2, 'longgap.training': 2,
    'longgap.phase_options': 2, 'longgap.baselines': 2, 'longgap.deep_prior': 2,
    'longgap.classifiers': 2, 'longgap.trained': 2,
    # 3: methods and their evaluation, inpainting of files
    'methods': 3, 'evaluation': 3, 'paper_tables': 3, 'folder_evaluation': 3, 'eta': 3,
    'inpaint': 3, 'plots': 3, 'excerpts': 3, 'listening': 3,
    # 4: the command line
    'selfcheck': 4, '__main__': 4,
}


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


def test_the_cycle_finder_finds_cycles():
  assert cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
  assert cycle({'a': {'b', 'c'}, 'b': {'c'}, 'c': set()}) == []


def test_no_module_cycle():
  edges = graph()
  assert 'audio_context_encoder.evaluation' in edges and edges['audio_context_encoder.evaluation']
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


def test_every_library_module_has_a_layer():
  missing = [short(m) for m in library_modules() if short(m) not in LAYERS]
  assert not missing, (f'{missing}: add each new library module to LAYERS in '
                       'tests/test_architecture.py (and docs/reference.md, "Layers")')
  stale = sorted(set(LAYERS) - {short(m) for m in library_modules()})
  assert not stale, f'{stale}: in LAYERS but no longer in the library; remove them'


@pytest.mark.parametrize('module', library_modules())
def test_imports_go_down_the_layers(module):
  edges = graph()
  layer = LAYERS.get(short(module))
  if layer is None:
    pytest.skip('not in LAYERS (test_every_library_module_has_a_layer fails)')
  upward = [f'{short(t)} (layer {LAYERS[short(t)]})' for t in sorted(edges[module])
            if t.split('.')[0] == LIBRARY and t != LIBRARY
            and LAYERS.get(short(t), -1) > layer]
  assert not upward, f'{short(module)} (layer {layer}) imports upward: {", ".join(upward)}'
