"""The listening page as a person meets it: opened in a real browser (Debian's Chromium, driven by
its ChromeDriver through selenium), over file:// and over HTTP on 127.0.0.1."""

import functools
import http.server
import os
import shutil
import threading

import numpy as np
import pytest

from audio_context_encoder.evaluation import excerpts
from audio_context_encoder.evaluation import listening
from audio_context_encoder import methods
from audio_context_encoder.evaluation import perceptual
from experiments.page_screenshot import chromium_driver


def tones(seconds=3.0, seed=0):
  t = np.arange(int(seconds * excerpts.RATE)) / excerpts.RATE
  rng = np.random.default_rng(seed)
  return (0.3 * np.sin(2 * np.pi * (330 + 40 * seed) * t) + 0.1 * np.sin(2 * np.pi * 990 * t)
          + 0.005 * rng.standard_normal(len(t)))


@pytest.fixture(scope='module')
def page(tmp_path_factory):
  """A two-excerpt set, LPC and interp, and its page; (folder, methods scored)."""
  folder = tmp_path_factory.mktemp('listen')
  shown = [excerpts.Excerpt(f'tone{i}', 0.0, tones(seed=i)) for i in range(2)]
  chosen = {n: methods.get(n) for n in ('interp', 'lpc')}
  record = excerpts.run(shown, chosen, perceptual.Visqol('audio'), str(folder / 'tones'),
                        title='tones', progress=False)
  listening.build(str(folder), 'test page')
  return folder, record['methods']


@pytest.fixture(scope='module')
def browser():
  driver = chromium_driver()
  yield driver
  driver.quit()


MEDIA = """
return {
  audio: Array.from(document.querySelectorAll('audio')).map(a => ({
      src: a.getAttribute('src'), ready: a.readyState, duration: a.duration,
      error: a.error ? a.error.code : null})),
  images: Array.from(document.querySelectorAll('img')).map(i => ({
      src: i.getAttribute('src'), width: i.naturalWidth, complete: i.complete})),
  rows: Array.from(document.querySelectorAll('table.scores')).map(
      t => t.querySelectorAll('tr.method').length)};
"""


def settled(driver, seconds=30):
  """The page's media once every <audio> has its metadata or an error, and every <img> loaded."""
  from selenium.webdriver.support.ui import WebDriverWait
  WebDriverWait(driver, seconds).until(lambda d: d.execute_script(
      "return Array.from(document.querySelectorAll('audio')).every("
      "a => a.readyState >= 1 || a.error) && Array.from(document.images).every(i => i.complete)"))
  return driver.execute_script(MEDIA)


def severe(driver):
  return [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']


def serve(folder):
  handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
  handler.log_message = lambda *a: None
  httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
  threading.Thread(target=httpd.serve_forever, daemon=True).start()
  return httpd


@pytest.mark.slow  # a browser
@pytest.mark.parametrize('how', ['file', 'http'])
def test_every_player_and_figure_loads_in_a_real_browser(page, browser, tmp_path, how):
  folder, names = page
  httpd = serve(folder) if how == 'http' else None
  try:
    url = (f'http://127.0.0.1:{httpd.server_address[1]}/index.html' if httpd
           else (folder / 'index.html').as_uri())
    browser.get_log('browser')  # start from an empty console
    browser.get(url)
    media = settled(browser)
    browser.save_screenshot(str(tmp_path / f'page-{how}.png'))
  finally:
    if httpd:
      httpd.shutdown()
  assert len(media['audio']) == 2 * (len(names) + 1)  # the original and every method, per excerpt
  for a in media['audio']:
    assert a['error'] is None and a['ready'] >= 1 and a['duration'] == pytest.approx(3.0, abs=0.01), a
  assert len(media['images']) == 4 and all(i['width'] > 0 for i in media['images']), media['images']
  assert media['rows'] == [len(names)] * 2  # one row per method (zeroed included) per excerpt
  assert not severe(browser), severe(browser)
  assert (tmp_path / f'page-{how}.png').stat().st_size > 10_000


@pytest.mark.slow  # a browser
def test_a_missing_wav_fails_the_same_checks(page, browser, tmp_path):
  """Negative control: the checks above can fail. One WAV removed: its player reports a media
  error (4, source not supported) with readyState 0, and the console says so."""
  folder, _ = page
  broken = tmp_path / 'broken'
  shutil.copytree(folder, broken)
  os.remove(broken / 'tones' / '000' / 'lpc.wav')
  browser.get_log('browser')
  browser.get((broken / 'index.html').as_uri())
  media = settled(browser)
  bad = [a for a in media['audio'] if a['src'].endswith('000/lpc.wav')]
  assert bad and bad[0]['error'] == 4 and bad[0]['ready'] == 0
  assert sum(a['error'] is not None for a in media['audio']) == 1
  assert severe(browser)


def test_the_page_is_static_and_relative(page):
  folder, names = page
  text = (folder / 'index.html').read_text()
  assert 'http://' not in text and 'https://' not in text and '<link rel="icon" href="data:,">' in text
  for name in names:
    assert f'tones/000/{name}.wav' in text
