"""The README is a front door whose links all lead somewhere, and the Python example of
docs/inpainting.md runs as printed (issue 19: a documented, tested API)."""

import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / 'README.md'
INPAINTING = ROOT / 'docs' / 'inpainting.md'


def python_example() -> tuple:
  """(the code block under "## From Python", the output the text after it promises)."""
  text = INPAINTING.read_text()
  section = text[text.index('## From Python'):]
  code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
  after = section[section.index('```', section.index('```python') + 3) + 3:]
  promised = re.findall(r'`([^`]*(?:SNR over the gap|windows:)[^`]*)`', after.split('\n\n')[1])
  return code, [' '.join(p.split()) for p in promised]


@pytest.mark.slow  # loads the shipped network (TensorFlow)
def test_the_python_example_prints_what_the_readme_says():
  code, promised = python_example()
  assert len(promised) == 3, promised
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    exec(compile(code, str(INPAINTING), 'exec'), {})
  assert out.getvalue().splitlines() == promised


def links(path: pathlib.Path) -> list:
  """The relative targets of a Markdown file's links, without their #anchors."""
  targets = re.findall(r'\]\(([^)\s]+)\)', path.read_text())
  return [t.split('#')[0] for t in targets if not re.match(r'[a-z]+://', t) and t.split('#')[0]]


def test_the_readme_is_a_short_front_door_and_every_link_resolves():
  lines = README.read_text().splitlines()
  assert 150 <= len(lines) <= 250, f'README.md has {len(lines)} lines; keep it a five-minute read'
  found = links(README)
  assert len(found) >= 10  # the pages it sends the reader to
  missing = [t for t in found if not (README.parent / t).exists()]
  assert not missing, f'README.md links to missing files: {missing}'
  docs = sorted(p.name for p in (ROOT / 'docs').glob('*.md'))
  unlinked = [d for d in docs if f'docs/{d}' not in found]
  assert not unlinked, f'docs pages the README does not link: {unlinked}'


def test_every_docs_link_resolves():
  for page in sorted((ROOT / 'docs').glob('*.md')):
    missing = [t for t in links(page) if not (page.parent / t).exists()]
    assert not missing, f'{page.name} links to missing files: {missing}'
