"""A screenshot of a listening page in Debian's Chromium (what results/demo/listen-page.png is).

  python -m experiments.page_screenshot results/demo/listen/index.html results/demo/listen-page.png

Needs the test extra (selenium) and Debian's chromium + chromium-driver, which `make test`
installs. `chromium_driver` is also how tests/test_listening_page.py opens pages.
"""

import pathlib
import sys

CHROMIUM, CHROMEDRIVER = '/usr/bin/chromium', '/usr/bin/chromedriver'
# Headless, as root in a container, and no connection attempts to Google's services (this
# machine's network is closed; Chromium would retry them at every start).
FLAGS = ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
         '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync')


def chromium_driver(width: int = 1280, height: int = 2000):
  """A selenium driver of Debian's Chromium through its own ChromeDriver, console logs kept."""
  from selenium import webdriver
  from selenium.webdriver.chrome.service import Service
  options = webdriver.ChromeOptions()
  options.binary_location = CHROMIUM
  for flag in FLAGS + (f'--window-size={width},{height}',):
    options.add_argument(flag)
  options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
  return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def main(argv) -> int:
  if len(argv) != 3:
    print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
    return 2
  page, out = pathlib.Path(argv[1]).resolve(), argv[2]
  driver = chromium_driver(height=2400)
  try:
    driver.get(page.as_uri())
    driver.execute_script('return document.readyState')
    driver.save_screenshot(out)
  finally:
    driver.quit()
  print(f'wrote {out}')
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv))
