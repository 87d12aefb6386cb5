#!/usr/bin/env python3
"""Runs an open-source extractor in-process over a directory of pages (ID.html) on the current core.

    extract-peers.py TOOL PAGES PREDICTIONS.json

TOOL is trafilatura (comments excluded), resiliparse or readability-lxml. Writes what it extracted in the scorer's
format ({ID: {"articleBody": TEXT}}) and prints one JSON line with its speed (pages/s, median of three rounds; one
round on sets of more than 200 pages). Exits 3 when the tool is not installed.
"""
import json
import os
import statistics
import sys
import time

tool, directory, predictions = sys.argv[1:4]
try:
    if tool == "trafilatura":
        import trafilatura

        version = trafilatura.__version__

        def extract(page):
            return trafilatura.extract(page, include_comments=False) or ""
    elif tool == "resiliparse":
        from importlib.metadata import version as installed
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        version = installed("resiliparse")

        def extract(page):
            return extract_plain_text(bytes_to_str(page, detect_encoding(page)), main_content=True)
    elif tool == "readability-lxml":
        from importlib.metadata import version as installed
        import lxml.html
        from readability import Document

        version = installed("readability-lxml")

        def extract(page):
            return lxml.html.fromstring(Document(page).summary(html_partial=True)).text_content()
    else:
        sys.exit(f"unknown tool {tool}")
except ImportError as error:
    print(json.dumps({"bench": "extract", "tool": tool, "skipped": f"not installed: {error}"}))
    sys.exit(3)


def safely(page):
    # A peer that fails on a page scores it as empty, as the scorer does for a failing command.
    try:
        return extract(page)
    except Exception:
        return ""


names = sorted(f[:-5] for f in os.listdir(directory) if f.endswith(".html"))
pages = [open(os.path.join(directory, name + ".html"), "rb").read() for name in names]
json.dump({name: {"articleBody": safely(page)} for name, page in zip(names, pages)}, open(predictions, "w"))
rates = []
for _ in range(1 if len(pages) > 200 else 3):
    start = time.perf_counter()
    for page in pages:
        safely(page)
    rates.append(len(pages) / (time.perf_counter() - start))
print(json.dumps({"bench": "extract", "tool": f"{tool} {version}", "pages": len(pages),
                  "pages_per_s": round(statistics.median(rates), 1)}))
