"""Drives newsd's web interface in Debian's chromium (headless, through chromium-driver and Selenium) as a user would.

    web-browser.py BASE_URL HOSTILE_BLOB_SHA256 SCREENSHOT_DIR
    web-browser.py --login PASSWORD BASE_URL SCREENSHOT_DIR

With --login, the interface has a password and speaks HTTPS with its own certificate: every page sends the browser
to the login form, a wrong password is refused, the right one opens a session (a cookie that is HttpOnly, Secure and
SameSite=Strict), and logging out closes it.

Reads the article list, moves with the keyboard, opens an article, tags it, writes a note, hides it and shows it
again, compares two versions, searches, and opens an archived hostile page; exits 1 with the reason at the first
thing that is not as it should be. Screenshots of each page go to SCREENSHOT_DIR.
"""
import atexit
import os
import shutil
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

login = sys.argv[1] == "--login"
if login:
    password, base, shots = sys.argv[2], sys.argv[3].rstrip("/"), sys.argv[4]
else:
    base, hostile, shots = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
os.makedirs(shots, exist_ok=True)


def check(condition, message):
    if not condition:
        print(f"web-browser: {message}", file=sys.stderr)
        sys.exit(1)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
profile = tempfile.mkdtemp(prefix="newsd-chromium-")
# Removed on every way out, after the browser has quit (the `finally` below runs first).
atexit.register(shutil.rmtree, profile, True)
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1000",
                 f"--user-data-dir={profile}", "--no-first-run", "--disable-background-networking"):
    options.add_argument(argument)
if login:
    # The node's own certificate, which peers pin; the browser is told to take it.
    options.add_argument("--ignore-certificate-errors")
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
# A page being replaced after a click or a form leaves elements stale for a moment: waits look again.
wait = WebDriverWait(driver, 10, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def log_in():
    """Every page leads to the login form; a wrong password is refused, the right one opens a session."""
    driver.get(base + "/feeds")
    wait.until(expected_conditions.title_contains("Log in"))
    field = driver.find_element(By.NAME, "password")
    field.send_keys("not the password", Keys.ENTER)
    wait.until(expected_conditions.staleness_of(field))
    check("That is not the password" in driver.find_element(By.ID, "main").text, "a wrong password was not refused")
    check(not driver.get_cookies(), f"a wrong password set a cookie: {driver.get_cookies()}")
    driver.save_screenshot(os.path.join(shots, "login.png"))
    driver.find_element(By.NAME, "password").send_keys(password, Keys.ENTER)
    wait.until(expected_conditions.title_contains("Articles"))
    cookies = driver.get_cookies()
    check(len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["secure"] and cookies[0]["sameSite"] == "Strict",
          f"the session cookie is not HttpOnly, Secure and SameSite=Strict: {cookies}")
    driver.get(base + "/status")
    wait.until(expected_conditions.title_contains("Status"))
    driver.find_element(By.XPATH, "//button[text()='Log out']").click()
    wait.until(expected_conditions.title_contains("Log in"))
    driver.get(base + "/status")
    wait.until(expected_conditions.title_contains("Log in"))
    print("web-browser: ok")


try:
    if login:
        log_in()
        sys.exit(0)
    # Reading: the list, the keyboard, an article.
    driver.get(base + "/")
    check(driver.title == "Articles · newsd", f"the start page is titled {driver.title!r}")
    items = driver.find_elements(By.CSS_SELECTOR, ".items .item")
    check(len(items) == 3, f"{len(items)} articles listed, expected 3")
    check(any("Tom & Jerry <b>" in item.text for item in items), "the hostile title is not shown as text")
    driver.save_screenshot(os.path.join(shots, "articles.png"))
    driver.find_element(By.TAG_NAME, "body").send_keys("j")
    wait.until(lambda d: "current" in d.find_elements(By.CSS_SELECTOR, ".items .item")[0].get_attribute("class"))
    driver.find_element(By.LINK_TEXT, "Six killed in shelling").click()
    wait.until(expected_conditions.title_contains("Six killed in shelling"))
    text = driver.find_element(By.CSS_SELECTOR, ".text").text
    check("Six people were killed" in text, f"the article's text is not shown: {text!r}")
    cells = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#captures ~ div td")]
    check(sum("valid" in cell for cell in cells) == 2, f"the two captures' signatures are not shown valid: {cells}")
    driver.save_screenshot(os.path.join(shots, "article.png"))
    article = driver.current_url

    # Acting: a tag, a note, hide and show again, each through a form with its token.
    field = driver.find_element(By.CSS_SELECTOR, "input[name=action][value=tag] ~ label input")
    field.send_keys("evidence", Keys.ENTER)
    wait.until(expected_conditions.staleness_of(field))
    wait.until(lambda d: "evidence" in d.find_element(By.CSS_SELECTOR, ".tags").text)
    note = driver.find_element(By.ID, "note")
    note.send_keys("Casualty figure changed after publication.")
    note.find_element(By.XPATH, "following-sibling::button").click()
    wait.until(expected_conditions.staleness_of(note))
    wait.until(lambda d: "Casualty figure" in d.find_element(By.ID, "note").get_attribute("value"))
    hide = driver.find_element(By.XPATH, "//button[text()='Hide']")
    hide.click()
    wait.until(expected_conditions.staleness_of(hide))
    wait.until(lambda d: "Hidden from lists" in d.find_element(By.ID, "main").text)
    driver.get(base + "/")
    check("Six killed" not in driver.find_element(By.ID, "main").text, "a hidden article is still listed")
    driver.get(article)
    show = driver.find_element(By.XPATH, "//button[text()='Show again']")
    show.click()
    wait.until(expected_conditions.staleness_of(show))
    wait.until(lambda d: d.find_elements(By.XPATH, "//button[text()='Hide']"))

    # Provenance: the word diff between the two versions.
    changes = driver.find_element(By.LINK_TEXT, "changes from the one before")
    changes.click()
    wait.until(expected_conditions.staleness_of(changes))
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".diff")))
    removed = [element.text for element in driver.find_elements(By.CSS_SELECTOR, ".diff del")]
    added = [element.text for element in driver.find_elements(By.CSS_SELECTOR, ".diff ins")]
    check("Four" in removed and "Six" in added, f"the diff shows removed {removed}, added {added}")
    driver.save_screenshot(os.path.join(shots, "diff.png"))

    # Search, from the keyboard.
    driver.find_element(By.TAG_NAME, "body").send_keys("/")
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "q")
    driver.switch_to.active_element.send_keys("shells", Keys.ENTER)
    wait.until(expected_conditions.title_contains("Search: shells"))
    marks = [element.text.lower() for element in driver.find_elements(By.CSS_SELECTOR, ".snippet mark")]
    check("shells" in marks, f"the search does not mark its word: {marks}")
    driver.save_screenshot(os.path.join(shots, "search.png"))

    # A section by its g-shortcut; every field has a label; on a phone nothing is wider than the screen; in the dark
    # the page is dark.
    driver.find_element(By.TAG_NAME, "body").send_keys("g", "s")
    wait.until(expected_conditions.title_contains("Stories"))
    for path in ("/", "/feeds", "/status", "/search?q=shells"):
        driver.get(base + path)
        unlabelled = driver.execute_script(
            "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))"
            ".filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.outerHTML)")
        check(not unlabelled, f"{path} has fields without a label: {unlabelled}")
    driver.set_window_size(390, 844)
    for path in ("/", article.replace(base, ""), "/feeds", "/status"):
        driver.get(base + path)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 0, f"{path} is {overflow} px wider than a phone's screen")
    driver.get(base + "/")
    driver.save_screenshot(os.path.join(shots, "phone.png"))
    driver.set_window_size(1200, 1000)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    driver.get(article)
    background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    check(background == "rgb(22, 23, 22)", f"the dark scheme's background is {background}")
    driver.save_screenshot(os.path.join(shots, "article-dark.png"))
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})

    # The hostile page, framed and on its own: none of its scripts runs.
    driver.get(f"{base}/capture/{hostile}")
    frame = driver.find_element(By.CSS_SELECTOR, "iframe.raw")
    check(frame.get_attribute("sandbox") == "", "the archived page's frame is not sandboxed")
    driver.switch_to.frame(frame)
    wait.until(expected_conditions.presence_of_element_located((By.TAG_NAME, "h1")))
    check(not driver.find_elements(By.ID, "ran"), "the archived page's script ran in the frame")
    driver.switch_to.default_content()
    check(driver.find_element(By.TAG_NAME, "body").get_attribute("data-pwned") is None, "the archived page reached its parent")
    driver.save_screenshot(os.path.join(shots, "archived-page.png"))
    driver.get(f"{base}/raw/{hostile}")
    wait.until(expected_conditions.presence_of_element_located((By.TAG_NAME, "h1")))
    check(not driver.find_elements(By.ID, "ran"), "the archived page's script ran when opened on its own")
    print("web-browser: ok")
finally:
    driver.quit()
