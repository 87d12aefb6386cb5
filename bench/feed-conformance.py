#!/usr/bin/env python3
"""Agreement of `newsctl feeds parse` with feedparser over feedparser's own well-formed test feeds.

    bench/feed-conformance.py NEWSCTL CORPUS [--show dev|held-out]

CORPUS is a folder of feedparser's tests (`tests/wellformed`, `tests/entities`). A document agrees when
both parsers find the same feed title and the same number of entries and, entry by entry, the same title as
text (feedparser's markup stripped and its references decoded unless it says the title is not HTML, spaces
collapsed) and the same link. Where feedparser finds no link for an entry, any
link newsd finds counts as agreeing (an Atom `<id>` that is an http URL, say): there is nothing to compare.
A document newsd refuses counts as no entries.

The documents are split in two folds by a hash of their path: `dev` (worked on) and `held-out` (only
measured). Prints one JSON line per fold; `--show FOLD` also lists that fold's disagreements on stderr.
"""
import concurrent.futures
import hashlib
import html
import json
import os
import re
import subprocess
import sys

import feedparser

BASE = "http://localhost:8097/tests/wellformed/"


def text(value, detail=None):
    """A feedparser text field as plain text: HTML unless its type says otherwise."""
    if value is None:
        return ""
    if detail is not None and "html" not in detail.get("type", "text/html"):
        return " ".join(value.split())
    value = re.sub(r"<[^>]*>", "", value)
    return " ".join(html.unescape(value).split())


def plain(value):
    """newsd's are plain text already."""
    return " ".join((value or "").split())


def fold(relative):
    return "dev" if hashlib.sha256(relative.encode()).digest()[0] % 2 == 0 else "held-out"


def newsd_entries(newsctl, path, url):
    result = subprocess.run([newsctl, "feeds", "parse", path, "--url", url, "--json"], capture_output=True, timeout=60)
    if result.returncode != 0:
        return [("", None)], result.stderr.decode(errors="replace").strip()
    feed = json.loads(result.stdout)
    return [(plain(feed.get("title")), None)] + [(plain(entry.get("title")), entry.get("link")) for entry in feed["entries"]], None


def feedparser_entries(data, url):
    parsed = feedparser.parse(data, response_headers={"content-location": url})
    return [(text(parsed.feed.get("title"), parsed.feed.get("title_detail")), None)] + [
        (text(entry.get("title"), entry.get("title_detail")), entry.get("link") or None) for entry in parsed.entries]


def agree(theirs, ours):
    if len(theirs) != len(ours):
        return False
    for (their_title, their_link), (our_title, our_link) in zip(theirs, ours):
        if their_title != our_title or (their_link is not None and their_link != our_link):
            return False
    return True


def check(newsctl, corpus, relative):
    path = os.path.join(corpus, relative)
    url = BASE + relative
    with open(path, "rb") as handle:
        data = handle.read()
    theirs = feedparser_entries(data, url)
    ours, error = newsd_entries(newsctl, path, url)
    return relative, agree(theirs, ours), theirs, ours, error


def main():
    newsctl, corpus = sys.argv[1], sys.argv[2]
    show = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--show" else None
    documents = sorted(
        os.path.relpath(os.path.join(folder, name), corpus)
        for folder, _, names in os.walk(corpus)
        for name in names
        if name.endswith(".xml")
    )
    totals = {"dev": [0, 0], "held-out": [0, 0]}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for relative, agreed, theirs, ours, error in pool.map(lambda r: check(newsctl, corpus, r), documents):
            name = fold(relative)
            totals[name][0] += agreed
            totals[name][1] += 1
            if not agreed and show == name:
                print(f"{relative}\n  feedparser: {theirs}\n  newsd:      {ours}{'  ' + error if error else ''}", file=sys.stderr)
    for name, (agreed, count) in totals.items():
        print(json.dumps({"bench": "feed-conformance", "fold": name, "documents": count, "agreeing": agreed,
                          "agreement": round(agreed / count, 4) if count else None,
                          "reference": f"feedparser {feedparser.__version__}"}))


if __name__ == "__main__":
    main()
